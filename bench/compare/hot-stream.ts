// hot-stream: one stream, 8 and 32 concurrent writers issuing Deposit commands of the bank
// account decider (examples/bank-account.ts), each deciding from fresh state and retrying on
// conflict. Scribe through `execute` (decided at the owner) and `handle` (load, decide,
// append, retry; bench/scenarios/hot-stream.ts), Emmett through its CommandHandler with its
// retry on version conflicts, configured with the same backoff as Scribe's `handle`.
import { performance } from 'node:perf_hooks';
import { CommandHandler, STREAM_DOES_NOT_EXIST, isExpectedVersionConflictError } from '@event-driven-io/emmett';
import { account, type Account, type AccountEvent } from '../../examples/bank-account.js';
import { measureHotStream, type Path } from '../scenarios/hot-stream.js';
import { cpuSample, cpuSince } from '../../test/support/cpu.js';
import { latencySummary, perSecond, round } from '../stats.js';
import { withFreshStore } from '../store-fixture.js';
import type { PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import { checkStreams } from './self-check.js';
import { emptyResult, inTurn, measureInTurn, record, type WorkloadContext, type WorkloadResult } from './workload.js';

export interface HotStreamOptions {
  readonly writers: number[];
  /** Accepted commands per measurement. */
  readonly commands: number;
  readonly partitions: number;
}

async function measureScribe(o: HotStreamOptions, context: WorkloadContext, result: WorkloadResult): Promise<void> {
  await withFreshStore(context.brokers, { prefix: 'bench-cmp-hot', partitions: o.partitions, replicationFactor: 1, writer: true, log: context.log }, async ({ store }) => {
    store.register('account', account);
    const acknowledged = new Map<string, number>();
    for (const writers of o.writers) {
      const paths: Path[] = inTurn(['execute', 'handle'], context.repetition);
      for (const path of paths) {
        const cpu = cpuSample(context.brokers);
        const measured = await measureHotStream(store, path, writers, o.commands);
        record(result, 'hot-stream', `w${writers}`, `scribe-${path}`, { ...measured.figures, ...cpuSince(cpu) });
        // The stream holds Opened and one Deposited per accepted command.
        acknowledged.set(measured.streamId, o.commands + 1);
        context.log(`hot-stream, ${writers} writers, scribe ${path}: ${measured.figures.commandsPerSec} commands/s, ${measured.figures.retriesPerCommandRatio} retries per command, p50 ${measured.figures.p50Ms} ms`);
      }
    }
    result.selfChecks.push(
      await checkStreams('scribe', 'hot-stream', acknowledged, 0, async (id) => {
        const positions: number[] = [];
        for await (const event of store.readStream(id)) positions.push(event.version);
        return positions;
      }),
    );
  });
}

/** Emmett's command handler for the account: the decider's evolve and initial state. */
const handleAccount = CommandHandler<Account, AccountEvent>({ evolve: account.evolve, initialState: account.initialState });

/**
 * Retry on a version conflict only, with Scribe's `handle` backoff (1 ms doubling to 50 ms,
 * jittered), enough retries that no command is given up. Emmett's default is 3 retries from 100 ms.
 */
const onVersionConflict = { retries: 10_000, minTimeout: 1, maxTimeout: 50, factor: 2, randomize: true, shouldRetryError: isExpectedVersionConflictError };

async function measureEmmettLevel(store: PostgresEventStore, streamId: string, writers: number, commands: number, brokers: readonly string[]) {
  await store.appendToStream<AccountEvent>(streamId, [{ type: 'Opened', data: { owner: 'bench' } }], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  let issued = 0;
  let attempts = 0;
  const latencies: number[] = [];
  const writer = async () => {
    while (issued < commands) {
      issued++;
      const began = performance.now();
      await handleAccount(
        store,
        streamId,
        (state) => {
          // Called once per attempt: every call after a command's first is a retry.
          attempts++;
          return [...account.decide({ type: 'Deposit', amount: 1 }, state)];
        },
        { retry: { onVersionConflict } },
      );
      latencies.push(performance.now() - began);
    }
  };
  const started = performance.now();
  const cpuAtStart = cpuSample(brokers);
  await Promise.all(Array.from({ length: writers }, () => writer()));
  const elapsedMs = performance.now() - started;
  const cpu = cpuSince(cpuAtStart);
  const loaded = await store.aggregateStream(streamId, { evolve: account.evolve, initialState: account.initialState });
  if (loaded.state.balance !== commands) throw new Error(`emmett ${streamId}: balance ${loaded.state.balance} after ${commands} deposits`);
  const retries = attempts - commands;
  const latency = latencySummary(latencies);
  return { commandsPerSec: perSecond(commands, elapsedMs), retriesPerCommandRatio: round(retries / commands, 2), p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms, ...cpu };
}

async function measureEmmett(o: HotStreamOptions, context: WorkloadContext, result: WorkloadResult): Promise<void> {
  const { store } = context.emmett!;
  const acknowledged = new Map<string, number>();
  for (const writers of o.writers) {
    const streamId = `hot-${context.tag}-w${writers}`;
    const figures = await measureEmmettLevel(store, streamId, writers, o.commands, context.brokers);
    acknowledged.set(streamId, o.commands + 1);
    record(result, 'hot-stream', `w${writers}`, 'emmett-handler', figures);
    context.log(`hot-stream, ${writers} writers, emmett CommandHandler: ${figures.commandsPerSec} commands/s, ${figures.retriesPerCommandRatio} retries per command, p50 ${figures.p50Ms} ms`);
  }
  result.selfChecks.push(
    await checkStreams('emmett', 'hot-stream', acknowledged, 1, async (id) => {
      const read = await store.readStream(id);
      return read.events.map((event) => Number(event.metadata.streamPosition));
    }),
  );
}

export async function hotStream(o: HotStreamOptions, context: WorkloadContext): Promise<WorkloadResult> {
  const result = emptyResult();
  const measurements = [
    { system: 'scribe', run: () => measureScribe(o, context, result) },
    { system: 'emmett', run: () => measureEmmett(o, context, result) },
  ] as const;
  await measureInTurn(measurements, context);
  return result;
}
