// A Scribe writer in its own OS process, driven by a test over IPC (test/support/
// process-harness.ts, as the benchmarks' writers are): connect, run racing appenders, append
// on demand, grow the store, report what was acknowledged. Tests kill, pause and resume it,
// or have it stop itself at a commit.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { account } from '../../examples/bank-account.js';
import { AppendOutcomeUnknownError, EventStore, WrongExpectedVersionError, type ConnectOptions, type KafkaEventStore } from '../../src/index.js';
import { serveCommands } from './process-harness.js';
import { connectProducer, producerFactoryOption, type ProducerFactory } from '../../src/writer/producer-factory.js';

export type Command =
  | { cmd: 'connect'; options: ConnectOptions }
  | { cmd: 'race'; streams: string[]; appenders: number; appends: number; retry?: boolean }
  | { cmd: 'append'; ref: number; streamId: string; ids: string[]; expectedVersion: number | 'any' | 'no_stream' | 'stream_exists' }
  | { cmd: 'owned'; ref: number }
  | { cmd: 'grow'; partitions: number }
  | { cmd: 'freeze-at-commit'; when: FreezeMoment }
  | { cmd: 'deposits'; streams: string[]; workers: number }
  | { cmd: 'close' };

export type Report =
  | { type: 'connected'; owned: number[] }
  | { type: 'attempt'; id: string }
  | { type: 'ack'; id: string; streamId: string; version: number }
  | { type: 'failed'; id: string; code: string }
  | { type: 'race-done'; acked: number; conflicts: number; unknown: number }
  | { type: 'appended'; ref: number; ok: true; version: number; offset: string }
  | { type: 'appended'; ref: number; ok: false; code: string; message: string }
  | { type: 'owned'; ref: number; owned: number[] }
  | { type: 'moved'; moved: number; total: number }
  | { type: 'grown'; partitions: number };

/**
 * Where I5's zombie stops itself (SIGSTOP) at the next commit of a transaction with records:
 * `mid-batch`, the batch's events delivered in an open transaction and the commit not asked
 * for yet; `mid-commit`, a moment after the commit was asked for, its answer not received.
 */
export type FreezeMoment = 'mid-batch' | 'mid-commit';

let store: KafkaEventStore | undefined;
const send = (report: Report) => process.send?.(report);

/** Where the next commit of a transaction with records stops this process, once armed. */
let freezeAt: FreezeMoment | undefined;

/**
 * The writers' producers, each wrapped so that `freeze-at-commit` can arm a stop: the next
 * commit of a transaction that carries records stops this process (once). Mid-commit, the
 * main thread spins for 1 ms after asking for the commit, so that librdkafka's threads send
 * the EndTxn while no answer can reach the caller.
 */
const freezableProducers: ProducerFactory = async (options) => {
  const producer = await connectProducer(options);
  // Records sent in the open transaction: a batch whose appends all conflicted commits none.
  let sent = 0;
  return {
    initTransactions: (timeoutMs) => producer.initTransactions(timeoutMs),
    beginTransaction: () => {
      sent = 0;
      return producer.beginTransaction();
    },
    send: (record) => {
      sent++;
      return producer.send(record);
    },
    sendOffsetsToTransaction: (offsets, consumer, timeoutMs) => producer.sendOffsetsToTransaction(offsets, consumer, timeoutMs),
    commitTransaction: (timeoutMs) => {
      const moment = freezeAt;
      if (moment === undefined || sent === 0) return producer.commitTransaction(timeoutMs);
      freezeAt = undefined;
      if (moment === 'mid-batch') process.kill(process.pid, 'SIGSTOP');
      const committed = producer.commitTransaction(timeoutMs);
      if (moment === 'mid-commit') {
        for (const until = performance.now() + 1; performance.now() < until; );
        process.kill(process.pid, 'SIGSTOP');
      }
      return committed;
    },
    abortTransaction: (timeoutMs) => producer.abortTransaction(timeoutMs),
    disconnect: (timeoutMs) => producer.disconnect(timeoutMs),
  };
};

/**
 * Appenders that pick a random stream, append with the version they last saw, and on a
 * conflict take the actual version and try again; other failures are retried with the same
 * ids (applied at most once). With `retry: false` every failure is reported and the
 * append given up: a test then knows exactly which appends must not be stored.
 */
async function race(streams: string[], appenders: number, appends: number, retry: boolean): Promise<void> {
  const known = new Map<string, number>();
  let remaining = appends;
  let acked = 0;
  let conflicts = 0;
  let unknown = 0;
  const appender = async () => {
    while (remaining > 0) {
      remaining--;
      const streamId = streams[Math.floor(Math.random() * streams.length)]!;
      const id = randomUUID();
      send({ type: 'attempt', id });
      for (;;) {
        const expected = known.get(streamId) ?? -1;
        try {
          const result = await store!.append(streamId, [{ id, type: 'Raced', data: { by: process.pid } }], { expectedVersion: expected < 0 ? 'no_stream' : expected });
          known.set(streamId, result.nextExpectedVersion);
          acked++;
          send({ type: 'ack', id, streamId, version: result.nextExpectedVersion });
          break;
        } catch (error) {
          if (error instanceof WrongExpectedVersionError && retry) {
            conflicts++;
            known.set(streamId, error.actual);
          } else if (!retry) {
            send({ type: 'failed', id, code: (error as { code?: string }).code ?? 'UNKNOWN' });
            break;
          } else if (error instanceof AppendOutcomeUnknownError || (error as { retriable?: boolean }).retriable) {
            // Same ids, same expected version: applied at most once.
            unknown++;
            await new Promise((r) => setTimeout(r, 50));
          } else {
            throw error;
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: appenders }, appender));
  send({ type: 'race-done', acked, conflicts, unknown });
}

/**
 * Workers that open the streams and then deposit 1 into a random one, forever, through
 * `execute` (with a decider that snapshots after every command), each command reported as
 * attempted, then acknowledged or failed.
 */
async function deposits(streams: string[], workers: number): Promise<void> {
  store!.register('account', { ...account, snapshot: { every: 1 } });
  for (const streamId of streams) await store!.execute('account', streamId, { type: 'Open', owner: 'w' });
  const worker = async () => {
    for (;;) {
      const streamId = streams[Math.floor(Math.random() * streams.length)]!;
      const id = randomUUID();
      send({ type: 'attempt', id });
      try {
        const result = await store!.execute('account', streamId, { type: 'Deposit', amount: 1 }, { commandId: id });
        send({ type: 'ack', id, streamId, version: result.nextExpectedVersion });
      } catch (error) {
        // Given up, not retried: a test then knows exactly which commands must not be stored.
        send({ type: 'failed', id, code: (error as { code?: string }).code ?? 'UNKNOWN' });
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

// A test that ends or dies takes its writers with it.
serveCommands<Command>(async (command) => {
  switch (command.cmd) {
    case 'connect':
      // The one seam for faults: the writers' producer factory, a connect option users cannot name.
      store = await EventStore.connect({ ...command.options, [producerFactoryOption]: freezableProducers } as ConnectOptions);
      send({ type: 'connected', owned: store.ownedPartitions });
      break;
    case 'race':
      await race(command.streams, command.appenders, command.appends, command.retry ?? true);
      break;
    case 'append':
      try {
        const result = await store!.append(
          command.streamId,
          command.ids.map((id) => ({ id, type: 'Appended', data: { by: process.pid } })),
          { expectedVersion: command.expectedVersion },
        );
        send({ type: 'appended', ref: command.ref, ok: true, version: result.nextExpectedVersion, offset: result.position.offset });
      } catch (error) {
        send({ type: 'appended', ref: command.ref, ok: false, code: (error as { code?: string }).code ?? 'UNKNOWN', message: String(error) });
      }
      break;
    case 'deposits':
      await deposits(command.streams, command.workers);
      break;
    case 'owned':
      send({ type: 'owned', ref: command.ref, owned: store?.ownedPartitions ?? [] });
      break;
    case 'grow': {
      const grown = await store!.grow(command.partitions, { concurrency: 1, onProgress: (p) => p.completed && send({ type: 'moved', moved: p.moved, total: p.total }) });
      send({ type: 'grown', partitions: grown.partitions });
      break;
    }
    case 'freeze-at-commit':
      freezeAt = command.when;
      break;
    case 'close':
      await store?.close();
      process.exit(0);
  }
});
