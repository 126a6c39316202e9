// A process that owns no partition and appends with tracing on: its appends cross the appends
// topic to the owner in the test's process. It reports its spans over IPC.
import { EventStore } from '../../src/index.js';
import { openTelemetryTracing } from '../../src/tracing/index.js';
import { inMemoryTracing, type SpanRecord } from './traced-spans.js';

export interface TracedClientTask {
  readonly brokers: string[];
  readonly store: string;
  readonly dataDir: string;
  readonly streamId: string;
  /** Then runs this command with the decider the owner registered under `decider`. */
  readonly command?: { readonly decider: string; readonly streamId: string; readonly command: unknown };
}

export type TracedClientReport = { type: 'done'; spans: SpanRecord[]; offset: string; commandOffset?: string } | { type: 'error'; message: string };

process.once('message', (task: TracedClientTask) => {
  void (async () => {
    const tracing = inMemoryTracing();
    const store = await EventStore.connect({ brokers: task.brokers, store: task.store, writer: false, dataDir: task.dataDir, tracing: openTelemetryTracing({ tracerProvider: tracing.provider }) });
    try {
      const result = await store.append(task.streamId, [{ type: 'Opened', data: { owner: 'ada' }, metadata: { by: 'traced-client' } }], { expectedVersion: 'no_stream' });
      const executed = task.command ? await store.execute(task.command.decider, task.command.streamId, task.command.command) : undefined;
      process.send!({ type: 'done', spans: tracing.spans(), offset: result.position.offset, ...(executed ? { commandOffset: executed.position.offset } : {}) } satisfies TracedClientReport);
    } finally {
      await store.close();
    }
  })().catch((error: unknown) => process.send!({ type: 'error', message: String(error) } satisfies TracedClientReport));
});
