// hot-stream: one stream, many concurrent writers issuing commands. Through `execute` the
// owner decides them one after the other in its transactions; through `handle` each writer
// loads, decides and appends with optimistic concurrency, retrying on conflict. Both in one
// repetition, on the same store.
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { account } from '../../examples/bank-account.js';
import type { EventStore } from '../../src/index.js';
import { positiveInteger, positiveIntegers, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { latencySummary, medianFormatter, perSecond, round } from '../stats.js';
import { randomSuffix, withFreshStore } from '../store-fixture.js';

export interface HotStreamOptions {
  readonly writers: number[];
  readonly commands: number;
  readonly partitions: number;
}

export type Path = 'execute' | 'handle';

/**
 * One measurement on a fresh stream: `writers` writers issue Deposit commands through `path`
 * until `commands` were accepted; the stream is loaded back and checked. Also used by the
 * compare scenario.
 */
export async function measureHotStream(store: EventStore, path: Path, writers: number, commands: number) {
  const streamId = `hot-${path}-${randomSuffix()}`;
  await store.execute('account', streamId, { type: 'Open', owner: 'bench' });
  let issued = 0;
  let retries = 0;
  const latencies: number[] = [];
  const writer = async () => {
    while (issued < commands) {
      issued++;
      const began = performance.now();
      if (path === 'execute') await store.execute('account', streamId, { type: 'Deposit', amount: 1 });
      else retries += (await store.handle(account, streamId, { type: 'Deposit', amount: 1 }, { maxRetries: 10_000, backoff: { initialMs: 1, maxMs: 50 } })).retries;
      latencies.push(performance.now() - began);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, () => writer()));
  const elapsedMs = performance.now() - started;
  const loaded = await store.load(account, streamId);
  if (loaded.version !== commands || loaded.state.balance !== commands) throw new Error(`${streamId}: version ${loaded.version}, balance ${loaded.state.balance} after ${commands} deposits`);
  const latency = latencySummary(latencies);
  return {
    streamId,
    figures: { commandsPerSec: perSecond(commands, elapsedMs), retriesPerCommandRatio: round(retries / commands, 2), p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms },
  };
}

async function run(o: HotStreamOptions, context: BenchContext): Promise<RepetitionResult> {
  const figures: Record<string, number> = {};
  await withFreshStore(context.brokers, { prefix: 'bench-hot', partitions: o.partitions, replicationFactor: 1, writer: true, log: context.log }, async ({ store }) => {
    store.register('account', account);
    for (const w of o.writers) {
      // Alternate which path goes first, so that neither always meets a warmer broker.
      const order: Path[] = context.repetition % 2 === 0 ? ['handle', 'execute'] : ['execute', 'handle'];
      for (const path of order) {
        const { figures: level } = await measureHotStream(store, path, w, o.commands);
        for (const [figure, value] of Object.entries(level)) figures[`w${w}.${path}.${figure}`] = value;
        context.log(`${w} writers, ${path}: ${level.commandsPerSec} commands/s, ${level.retriesPerCommandRatio} retries per command, p50 ${level.p50Ms} ms, p99 ${level.p99Ms} ms`);
      }
      figures[`w${w}.executeOverHandleRatio`] = round(figures[`w${w}.execute.commandsPerSec`]! / figures[`w${w}.handle.commandsPerSec`]!, 2);
    }
  });
  return { figures };
}

export const hotStream: Scenario<HotStreamOptions> = {
  name: 'hot-stream',
  description: 'one stream, 8 and 32 concurrent writers: commands/s through execute (at the owner) vs handle (client-side, retries on conflict)',

  defineOptions(command: Command) {
    defineShared(command, ['writers', 'partitions']).option('--commands <n>', 'commands per measurement', '1000');
  },

  parseOptions(raw) {
    return { ...parseShared(raw, ['writers', 'partitions']), commands: positiveInteger('commands', raw.commands) };
  },

  run,

  notes(o) {
    return [
      `One EventStore (writer: true) owning every partition of a fresh ${o.partitions}-partition store; the bank account decider of examples/bank-account.ts registered as "account". A fresh stream per measurement, opened before the clock starts.`,
      `Each measurement: N writers in this process issue Deposit commands until ${o.commands} were accepted. execute: the owner decides each command against the state left by the previous one, inside its group-committed transactions. handle: load, decide, append with the loaded version; on WrongExpectedVersionError load again after a jittered backoff (1 ms doubling to 50 ms); retries counted.`,
      'Latency: from the call to its result (for handle, including its retries). After each measurement the stream is loaded back: version and balance must equal the number of commands.',
      'execute and handle alternate which runs first per repetition.',
    ];
  },

  summarize(medians, o) {
    const show = medianFormatter(medians);
    return o.writers.flatMap((w) => [
      `  ${String(w).padStart(2)} writers, execute: ${show(`w${w}.execute.commandsPerSec`, ' commands/s')}, p50 ${show(`w${w}.execute.p50Ms`, ' ms')}, p99 ${show(`w${w}.execute.p99Ms`, ' ms')}`,
      `  ${String(w).padStart(2)} writers, handle:  ${show(`w${w}.handle.commandsPerSec`, ' commands/s')}, ${show(`w${w}.handle.retriesPerCommandRatio`)} retries per command, p50 ${show(`w${w}.handle.p50Ms`, ' ms')}, p99 ${show(`w${w}.handle.p99Ms`, ' ms')}`,
      `  ${String(w).padStart(2)} writers, execute / handle: ${show(`w${w}.executeOverHandleRatio`)} (issue 4 target at 32 writers: at least 10)`,
    ]);
  },
};
