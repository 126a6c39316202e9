// The store's side of tracing: where an append or command starts and ends, and the trace
// context it carries to a remote owner and into its events' metadata. No tracing library here:
// `scribe/opentelemetry` (src/tracing/) implements it with @opentelemetry/api.
import type { StoreListener, TraceCarrier } from './store-events.js';

/** An append or a command as it starts in this process, in its caller's context. */
export interface OperationStart {
  readonly kind: 'append' | 'command';
  readonly streamId: string;
  /** The expected version as given (`no_stream`, `any`, a number); absent for a command. */
  readonly expectedVersion?: string;
  /** The events appended (a command's are known at its owner only). */
  readonly events: number;
  /** A command's decider. */
  readonly decider?: string;
}

/** How an operation settled (after its retries on ownership changes). */
export interface OperationEnd {
  readonly partition: number;
  readonly owner: 'local' | 'remote';
  /** `ok` or the error's code. */
  readonly outcome: string;
  /** Where its last event was stored. */
  readonly position?: { readonly partition: number; readonly offset: string };
  readonly error?: unknown;
}

export interface OperationTrace {
  /** The context to propagate: in the request to a remote owner and in each event's metadata. Empty: none. */
  readonly carrier: TraceCarrier;
  end(end: OperationEnd): void;
}

/** An event as a subscriber receives it: where it is, and the metadata that carries its trace. */
export interface HandledEvent {
  readonly streamId: string;
  readonly version: number;
  readonly type: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly position: { readonly partition: number; readonly offset: string };
}

/** A store's tracer, bound to its topics. */
export interface StoreTracer {
  start(operation: OperationStart): OperationTrace;
  /** Runs a subscription's handler for one event in a span that continues the event's trace. */
  handle<T>(subscription: string, event: HandledEvent, run: () => Promise<T> | T): Promise<T> | T;
  /** Runs a batch handler (projections) in a span linked to each event's trace. */
  handleBatch<T>(subscription: string, events: readonly HandledEvent[], run: () => Promise<T>): Promise<T>;
  /** The spans made from the store's events: owner-side requests, transactions. */
  readonly listener: StoreListener;
}

/** What the `tracing` connect option takes: binds a tracer to a connected store. */
export interface StoreTracing {
  bind(store: { readonly name: string; readonly topics: { readonly events: string; readonly appends: string; readonly replies: string } }): StoreTracer;
}

/** The keys of the W3C trace context in a carrier, in request headers and in event metadata. */
export const traceKeys = ['traceparent', 'tracestate'] as const;

/**
 * Adds the carrier to encoded metadata (JSON text or undefined). The caller's own keys win: an
 * event that already names a `traceparent` keeps it.
 */
export function withTraceContext(metadata: string | undefined, carrier: TraceCarrier): string | undefined {
  if (carrier.traceparent === undefined) return metadata;
  if (metadata === undefined) return JSON.stringify(carrier);
  return JSON.stringify({ ...carrier, ...(JSON.parse(metadata) as object) });
}
