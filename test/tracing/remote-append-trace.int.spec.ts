// A remote append's trace crosses both processes: the requester's span (in a child process
// with its own Kafka clients and tracer) is the parent of the owner's span in this process,
// through the headers of the request on `<store>.appends`; the owner's span links to the
// transaction that carried the append; the event's metadata carries the trace to subscribers.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type KafkaEventStore, type RecordedEvent } from '../../src/index.js';
import { openTelemetryTracing, traceContextOf } from '../../src/tracing/index.js';
import { owningAll } from '../support/ownership.js';
import { inMemoryTracing, type SpanRecord } from '../support/traced-spans.js';
import type { TracedClientReport, TracedClientTask } from '../support/traced-client.js';

const brokers = inject('brokers');
const client = fileURLToPath(new URL('../support/traced-client.ts', import.meta.url));

function appendInAnotherProcess(task: TracedClientTask): Promise<Extract<TracedClientReport, { type: 'done' }>> {
  return new Promise((resolve, reject) => {
    const child = fork(client, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the traced client did not report within 90 s'));
    }, 90_000);
    child.once('message', (report: TracedClientReport) => {
      clearTimeout(timer);
      if (report.type === 'error') reject(new Error(`traced client: ${report.message}`));
      else resolve(report);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the traced client exited with ${code} before reporting`));
    });
    child.send(task);
  });
}

async function eventually<T>(find: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('not within the bound');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a remote append traced across processes', () => {
  const name = `trace-${randomUUID().slice(0, 8)}`;
  const tracing = inMemoryTracing();
  let owner: KafkaEventStore;

  beforeAll(async () => {
    // What the SDK's NodeSDK registers: the active span follows async calls.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    owner = await EventStore.connect({ brokers, store: name, partitions: 2, dataDir: `.scribe/test/${name}-owner`, tracing: openTelemetryTracing({ tracerProvider: tracing.provider }) });
    await owningAll(owner);
  });
  afterAll(async () => {
    await owner?.close();
    context.disable();
  });

  it("the owner's span is a child of the requester's, linked to its transaction, and the event carries the trace on", async () => {
    const streamId = `acc-${randomUUID().slice(0, 8)}`;
    const partition = owner.partitionOf(streamId);
    const report = await appendInAnotherProcess({ brokers, store: name, dataDir: `.scribe/test/${name}-client`, streamId });

    // In the requester's process: one span for the append, sent to the remote owner.
    const appended = report.spans.filter((s) => s.name === 'scribe append');
    expect(appended).toHaveLength(1);
    const requester = appended[0]!;
    expect(requester.kind).toBe(SpanKind.PRODUCER);
    expect(requester.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': `${name}.events`,
      'messaging.destination.partition.id': String(partition),
      'messaging.kafka.offset': Number(report.offset),
      'scribe.stream': streamId,
      'scribe.expected_version': 'no_stream',
      'scribe.owner': 'remote',
      'scribe.request.topic': `${name}.appends`,
      'scribe.outcome': 'ok',
    });

    // In this process, the owner's: same trace, the requester's span as parent.
    const served = await eventually(() => tracing.spans().find((s) => s.name === 'scribe serve append' && s.traceId === requester.traceId));
    expect(served.parentSpanId).toBe(requester.spanId);
    expect(served.kind).toBe(SpanKind.CONSUMER);
    expect(served.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': `${name}.appends`,
      'messaging.destination.partition.id': String(partition),
      'scribe.stream': streamId,
      'scribe.outcome': 'ok',
      'scribe.events.offset': Number(report.offset),
    });
    const transaction = tracing.spans().find((s) => s.name === 'scribe transaction' && served.links.some((l) => l.spanId === s.spanId));
    expect(transaction?.attributes).toMatchObject({ 'messaging.destination.partition.id': String(partition), 'scribe.outcome': 'committed' });

    // The event carries the requester's trace context beside its own metadata.
    const events: RecordedEvent[] = [];
    for await (const event of owner.readStream(streamId)) events.push(event);
    expect(events[0]!.metadata).toMatchObject({ by: 'traced-client', traceparent: `00-${requester.traceId}-${requester.spanId}-01` });

    // A subscriber continues that trace: its handler runs in a span that is a child of the
    // requester's, so the handler's own spans join the trace; traceContextOf gives the same parent.
    const handled = new Promise<{ inside: SpanRecord; explicit: string }>((resolve) => {
      void owner.subscribe({ from: 'start', name: 'mailer' }, (event) => {
        if (event.streamId !== streamId) return;
        const inside = tracing.provider.getTracer('subscriber').startSpan('send email');
        inside.end();
        const explicit = tracing.provider.getTracer('subscriber').startSpan('explicit', {}, traceContextOf(event));
        explicit.end();
        resolve({ inside: tracing.spans().find((s) => s.spanId === inside.spanContext().spanId)!, explicit: explicit.spanContext().traceId });
      });
    });
    const { inside, explicit } = await handled;
    expect(explicit).toBe(requester.traceId);
    const processing = await eventually(() => tracing.spans().find((s) => s.name === 'scribe process' && s.attributes['scribe.stream'] === streamId));
    expect(processing).toMatchObject({ traceId: requester.traceId, parentSpanId: requester.spanId, kind: SpanKind.CONSUMER });
    expect(processing.attributes).toMatchObject({ 'messaging.consumer.group.name': `${name}.events.subscription.mailer`, 'messaging.kafka.offset': Number(report.offset), 'scribe.version': 0 });
    expect(inside).toMatchObject({ traceId: requester.traceId, parentSpanId: processing.spanId });
  });

  it("a remote command's trace crosses too, and the events its decider returned at the owner carry it", async () => {
    owner.register('counter', {
      initialState: () => 0,
      evolve: (n: number) => n + 1,
      decide: (command: { by: string }) => [{ type: 'Counted', data: { by: command.by } }],
    });
    const streamId = `count-${randomUUID().slice(0, 8)}`;
    const report = await appendInAnotherProcess({ brokers, store: name, dataDir: `.scribe/test/${name}-client-2`, streamId: `acc-${randomUUID().slice(0, 8)}`, command: { decider: 'counter', streamId, command: { by: 'bob' } } });
    const requester = report.spans.find((s) => s.name === 'scribe execute')!;
    expect(requester.attributes).toMatchObject({ 'scribe.stream': streamId, 'scribe.decider': 'counter', 'scribe.owner': 'remote', 'scribe.outcome': 'ok', 'messaging.kafka.offset': Number(report.commandOffset) });
    const served = await eventually(() => tracing.spans().find((s) => s.name === 'scribe serve command' && s.traceId === requester.traceId));
    expect(served.parentSpanId).toBe(requester.spanId);
    const events: RecordedEvent[] = [];
    for await (const event of owner.readStream(streamId)) events.push(event);
    expect(events.map((e) => [e.type, e.metadata.traceparent])).toEqual([['Counted', `00-${requester.traceId}-${requester.spanId}-01`]]);
  });

  it("a local append's span is linked to the transaction that carried it, and continues the caller's trace", async () => {
    const streamId = `acc-${randomUUID().slice(0, 8)}`;
    const caller = tracing.provider.getTracer('caller').startSpan('request');
    const result = await context.with(trace.setSpan(context.active(), caller), () => owner.append(streamId, [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' }));
    caller.end();
    const span = await eventually(() => tracing.spans().find((s: SpanRecord) => s.name === 'scribe append' && s.attributes['scribe.stream'] === streamId));
    expect(span.attributes).toMatchObject({ 'scribe.owner': 'local', 'scribe.outcome': 'ok', 'messaging.kafka.offset': Number(result.position.offset) });
    expect(span.links).toHaveLength(1);
    expect(tracing.spans().find((s) => s.spanId === span.links[0]!.spanId)?.name).toBe('scribe transaction');
    expect(span.parentSpanId).toBe(caller.spanContext().spanId);
    expect(span.traceId).toBe(caller.spanContext().traceId);
  });

  it("a batch handler (a projection's) runs in a span linked to the trace of each event it handles", async () => {
    const streamId = `proj-${randomUUID().slice(0, 8)}`;
    await owner.append(streamId, [{ type: 'A', data: {} }, { type: 'B', data: {} }], { expectedVersion: 'no_stream' });
    const appendSpan = await eventually(() => tracing.spans().find((s) => s.name === 'scribe append' && s.attributes['scribe.stream'] === streamId));
    let insideBatch: string | undefined;
    const subscription = await owner.subscribeBatches({ name: 'projection-test' }, (batch) => {
      if (batch.events.some((e) => e.streamId === streamId)) insideBatch ??= trace.getActiveSpan()?.spanContext().spanId;
    });
    try {
      const batchSpan = await eventually(() => (insideBatch ? tracing.spans().find((s) => s.spanId === insideBatch) : undefined));
      expect(batchSpan.name).toBe('scribe process batch');
      expect(batchSpan.attributes['messaging.consumer.group.name']).toBe(`${name}.events.subscription.projection-test`);
      // Both events were appended in one span: each links to it.
      expect(batchSpan.links.filter((l) => l.spanId === appendSpan.spanId)).toHaveLength(2);
    } finally {
      await subscription.stop();
    }
  });

  it('a failed append ends its span with an error status and the error code', async () => {
    const streamId = `acc-${randomUUID().slice(0, 8)}`;
    await expect(owner.append(streamId, [{ type: 'Opened', data: {} }], { expectedVersion: 3 })).rejects.toMatchObject({ code: 'WRONG_EXPECTED_VERSION' });
    const span = await eventually(() => tracing.spans().find((s) => s.name === 'scribe append' && s.attributes['scribe.stream'] === streamId));
    expect(span.status).toBe(2); // SpanStatusCode.ERROR
    expect(span.attributes['scribe.outcome']).toBe('WRONG_EXPECTED_VERSION');
  });
});
