// The store's tracing port implemented with @opentelemetry/api (an optional peer dependency):
// a span per append and per command at the caller, a span per request served at a remote owner
// (a child of the caller's, through the request's headers), a span per writer transaction, each
// append linked to the transaction that carried it. Attributes follow OpenTelemetry's messaging
// semantic conventions (https://opentelemetry.io/docs/specs/semconv/messaging/kafka/).
import { context, createTraceState, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer, type TracerProvider } from '@opentelemetry/api';
import type { StoreEvent, TraceCarrier } from '../instrumentation/store-events.js';
import type { HandledEvent, OperationEnd, OperationStart, OperationTrace, StoreTracer, StoreTracing } from '../instrumentation/tracing.js';

export interface OpenTelemetryTracingOptions {
  /** Where spans go (default: the global provider, as registered by the OpenTelemetry SDK). */
  readonly tracerProvider?: TracerProvider;
}

/** The instrumentation scope of Scribe's spans. */
export const tracerName = 'scribe';

/** `tracing` for `EventStore.connect`: traces appends, commands, requests served and transactions with OpenTelemetry. */
export function openTelemetryTracing(options: OpenTelemetryTracingOptions = {}): StoreTracing {
  return {
    bind(store) {
      const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(tracerName);
      return new OpenTelemetryTracer(tracer, store);
    },
  };
}

type Topics = Parameters<StoreTracing['bind']>[0];

class OpenTelemetryTracer implements StoreTracer {
  /** Per partition, the latest transaction committed by this process: the one that carried an append settling now. */
  private readonly transactions = new Map<number, SpanContext>();

  constructor(
    private readonly tracer: Tracer,
    private readonly store: Topics,
  ) {}

  private messaging(partition: number): Attributes {
    return {
      'messaging.system': 'kafka',
      'messaging.destination.name': this.store.topics.events,
      ...(partition >= 0 ? { 'messaging.destination.partition.id': String(partition) } : {}),
    };
  }

  start(operation: OperationStart): OperationTrace {
    // Built by assignment: this runs for every append.
    const attributes: Attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.operation.name': operation.kind === 'append' ? 'append' : 'execute',
      'messaging.destination.name': this.store.topics.events,
      'scribe.store': this.store.name,
      'scribe.stream': operation.streamId,
    };
    if (operation.expectedVersion !== undefined) attributes['scribe.expected_version'] = operation.expectedVersion;
    if (operation.decider !== undefined) attributes['scribe.decider'] = operation.decider;
    if (operation.events > 0) attributes['messaging.batch.message_count'] = operation.events;
    const span = this.tracer.startSpan(operation.kind === 'append' ? 'scribe append' : 'scribe execute', { kind: SpanKind.PRODUCER, attributes }, context.active());
    return {
      carrier: carrierOf(span.spanContext()),
      end: (end: OperationEnd) => this.end(span, end),
    };
  }

  handle<T>(subscription: string, event: HandledEvent, run: () => Promise<T> | T): Promise<T> | T {
    const span = this.tracer.startSpan(
      'scribe process',
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': this.store.topics.events,
          'messaging.destination.partition.id': String(event.position.partition),
          'messaging.kafka.offset': Number(event.position.offset),
          ...(subscription ? { 'messaging.consumer.group.name': subscription } : {}),
          'scribe.store': this.store.name,
          'scribe.stream': event.streamId,
          'scribe.version': event.version,
          'scribe.event_type': event.type,
        },
      },
      traceContextOf(event),
    );
    return settleSpan(span, () => context.with(trace.setSpan(context.active(), span), run));
  }

  handleBatch<T>(subscription: string, events: readonly HandledEvent[], run: () => Promise<T>): Promise<T> {
    const links = events.flatMap((event) => {
      const link = traceLinkOf(event);
      return link ? [link] : [];
    });
    const span = this.tracer.startSpan('scribe process batch', {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': this.store.topics.events,
        'messaging.batch.message_count': events.length,
        'messaging.consumer.group.name': subscription,
        'scribe.store': this.store.name,
      },
    });
    return settleSpan(span, () => context.with(trace.setSpan(context.active(), span), run)) as Promise<T>;
  }

  private end(span: Span, end: OperationEnd): void {
    const attributes: Attributes = { 'scribe.owner': end.owner, 'scribe.outcome': end.outcome };
    if (end.partition >= 0) attributes['messaging.destination.partition.id'] = String(end.partition);
    if (end.owner === 'remote') attributes['scribe.request.topic'] = this.store.topics.appends;
    if (end.position) attributes['messaging.kafka.offset'] = Number(end.position.offset);
    span.setAttributes(attributes);
    if (end.owner === 'local' && end.outcome === 'ok') {
      const transaction = this.transactions.get(end.partition);
      if (transaction) span.addLink({ context: transaction, attributes: { 'scribe.link': 'transaction' } });
    }
    if (end.outcome !== 'ok') {
      span.setStatus({ code: SpanStatusCode.ERROR, message: end.outcome });
      if (end.error instanceof Error) span.recordException(end.error);
    }
    span.end();
  }

  /** Spans from what the store reports: transactions of this process's writers, requests served for other processes. */
  readonly listener = (event: StoreEvent & { readonly time: number }): void => {
    switch (event.type) {
      case 'batch-committed': {
        const span = this.tracer.startSpan(
          'scribe transaction',
          {
            kind: SpanKind.PRODUCER,
            startTime: event.time - event.durationMs,
            attributes: {
              ...this.messaging(event.partition),
              'messaging.operation.type': 'send',
              'messaging.batch.message_count': event.events,
              'scribe.store': this.store.name,
              'scribe.appends': event.appends,
              'scribe.outcome': 'committed',
            },
          },
          ROOT_CONTEXT,
        );
        span.end(event.time);
        this.transactions.set(event.partition, span.spanContext());
        return;
      }
      case 'batch-aborted': {
        const span = this.tracer.startSpan('scribe transaction', { kind: SpanKind.PRODUCER, startTime: event.time, attributes: { ...this.messaging(event.partition), 'scribe.store': this.store.name, 'scribe.appends': event.appends, 'scribe.outcome': event.outcome } }, ROOT_CONTEXT);
        span.setStatus({ code: SpanStatusCode.ERROR, message: event.reason });
        span.end(event.time);
        return;
      }
      case 'request-served': {
        // A child of the requester's span, in this process: the trace crosses the appends topic.
        const parent = event.trace ? contextOf(event.trace) : ROOT_CONTEXT;
        const span = this.tracer.startSpan(
          `scribe serve ${event.kind}`,
          {
            kind: SpanKind.CONSUMER,
            startTime: event.time - event.durationMs,
            attributes: {
              'messaging.system': 'kafka',
              'messaging.operation.type': 'process',
              'messaging.destination.name': this.store.topics.appends,
              'messaging.destination.partition.id': String(event.partition),
              'scribe.store': this.store.name,
              'scribe.stream': event.streamId,
              'scribe.outcome': event.outcome,
              ...(event.offset === undefined ? {} : { 'scribe.events.offset': Number(event.offset) }),
            },
          },
          parent,
        );
        const transaction = event.outcome === 'ok' ? this.transactions.get(event.partition) : undefined;
        if (transaction) span.addLink({ context: transaction, attributes: { 'scribe.link': 'transaction' } });
        if (event.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: event.outcome });
        span.end(event.time);
        return;
      }
      default:
        return;
    }
  };
}

/** Ends the span when the work settles; a failure sets its error status. */
function settleSpan<T>(span: Span, work: () => Promise<T> | T): Promise<T> | T {
  const failed = (error: unknown) => {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    if (error instanceof Error) span.recordException(error);
    span.end();
    throw error;
  };
  let result: Promise<T> | T;
  try {
    result = work();
  } catch (error) {
    return failed(error);
  }
  if (result instanceof Promise) {
    return result.then((value) => {
      span.end();
      return value;
    }, failed);
  }
  span.end();
  return result;
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** W3C trace context of a span (https://www.w3.org/TR/trace-context/); empty for an invalid one (nothing traced). */
function carrierOf(spanContext: SpanContext): TraceCarrier {
  if (!isSpanContextValid(spanContext)) return {};
  const traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${spanContext.traceFlags & 1 ? '01' : '00'}`;
  const tracestate = spanContext.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The remote span context a carrier names, or undefined. */
function spanContextOf(carrier: Readonly<Record<string, unknown>> | undefined): SpanContext | undefined {
  const traceparent = carrier?.traceparent;
  if (typeof traceparent !== 'string') return undefined;
  const match = traceparentPattern.exec(traceparent.trim());
  if (!match) return undefined;
  const tracestate = carrier?.tracestate;
  const spanContext: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: parseInt(match[3]!, 16),
    isRemote: true,
    ...(typeof tracestate === 'string' ? { traceState: createTraceState(tracestate) } : {}),
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

function contextOf(carrier: TraceCarrier, base: Context = ROOT_CONTEXT): Context {
  const spanContext = spanContextOf(carrier);
  return spanContext ? trace.setSpanContext(base, spanContext) : base;
}

/**
 * The trace an event was appended in, as a parent context: a subscriber or a projection
 * continues it with `tracer.startActiveSpan(name, {}, traceContextOf(event), ...)`. The
 * caller's context when the event carries none.
 */
export function traceContextOf(event: { readonly metadata: Readonly<Record<string, unknown>> }, base: Context = context.active()): Context {
  const spanContext = spanContextOf(event.metadata);
  return spanContext ? trace.setSpanContext(base, spanContext) : base;
}

/** A link to the span an event was appended in (for a span that handles a batch of events from many traces). */
export function traceLinkOf(event: { readonly metadata: Readonly<Record<string, unknown>> }): { context: SpanContext } | undefined {
  const spanContext = spanContextOf(event.metadata);
  return spanContext ? { context: spanContext } : undefined;
}
