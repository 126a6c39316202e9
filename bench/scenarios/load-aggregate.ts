// load-aggregate: the time to load a decider's state from streams of 100, 10,000 and 100,000
// events, with a snapshot near the head and without one (the same stream, read by a decider
// whose snapshot version matches no snapshot, so it folds every event).
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { account } from '../../examples/bank-account.js';
import type { EventStore } from '../../src/index.js';
import { positiveInteger, positiveIntegers, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { median, medianFormatter, round } from '../stats.js';
import { randomSuffix, withFreshStore } from '../store-fixture.js';

export interface LoadAggregateOptions {
  readonly lengths: number[];
  /** Events appended after the snapshot, folded on every load with snapshots. */
  readonly tail: number;
  readonly loads: number;
  readonly partitions: number;
}

/** The bank account decider with a snapshot on every command (also the compare scenario's). */
export const withSnapshots = { ...account, snapshot: { when: () => true } };
/** Reads the same stream but matches no snapshot: every event is folded. */
const withoutSnapshots = { ...account, snapshot: undefined, snapshotVersion: 999 };

/** Writes the stream: `length - tail` events in appends of 1,000, a snapshot with the next, then the tail. */
export async function writeStream(store: EventStore, streamId: string, length: number, tail: number): Promise<void> {
  await store.append(streamId, [{ type: 'Opened', data: { owner: 'bench' } }], { expectedVersion: 'no_stream' });
  let version = 0;
  const bulk = length - tail - 2;
  while (version < bulk) {
    const n = Math.min(1_000, bulk - version);
    const result = await store.append(streamId, Array.from({ length: n }, () => ({ type: 'Deposited', data: { amount: 1 } })), { expectedVersion: version });
    version = result.nextExpectedVersion;
  }
  await store.handle(withSnapshots, streamId, { type: 'Deposit', amount: 1 });
  for (let i = 0; i < tail; i++) await store.append(streamId, [{ type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 'any' });
}

async function timeLoads(store: EventStore, decider: typeof account, streamId: string, loads: number, expectedVersion: number) {
  const times: number[] = [];
  for (let i = 0; i < loads; i++) {
    const began = performance.now();
    const loaded = await store.load(decider, streamId);
    times.push(performance.now() - began);
    if (loaded.version !== expectedVersion || loaded.state.balance !== expectedVersion) throw new Error(`${streamId}: loaded version ${loaded.version}, balance ${loaded.state.balance}; expected ${expectedVersion}`);
  }
  return round(median(times), 3);
}

async function run(o: LoadAggregateOptions, context: BenchContext): Promise<RepetitionResult> {
  const figures: Record<string, number> = {};
  await withFreshStore(context.brokers, { prefix: 'bench-load', partitions: o.partitions, replicationFactor: 1, writer: true, log: context.log }, async ({ store }) => {
    for (const length of o.lengths) {
      const streamId = `account-${length}-${randomSuffix()}`;
      const began = performance.now();
      await writeStream(store, streamId, length, Math.min(o.tail, length - 2));
      context.log(`${length} events written in ${round((performance.now() - began) / 1000, 1)} s`);
      const version = length - 1;
      figures[`n${length}.withSnapshotMs`] = await timeLoads(store, withSnapshots, streamId, o.loads, version);
      figures[`n${length}.withoutSnapshotMs`] = await timeLoads(store, withoutSnapshots, streamId, Math.max(1, Math.min(o.loads, Math.ceil(200_000 / length))), version);
      context.log(`${length} events: load ${figures[`n${length}.withSnapshotMs`]} ms with a snapshot, ${figures[`n${length}.withoutSnapshotMs`]} ms without`);
    }
    const [shortest, longest] = [Math.min(...o.lengths), Math.max(...o.lengths)];
    figures.longestOverShortestWithSnapshotRatio = round(figures[`n${longest}.withSnapshotMs`]! / figures[`n${shortest}.withSnapshotMs`]!, 2);
    figures.longestOverShortestWithoutSnapshotRatio = round(figures[`n${longest}.withoutSnapshotMs`]! / figures[`n${shortest}.withoutSnapshotMs`]!, 2);
  });
  return { figures };
}

export const loadAggregate: Scenario<LoadAggregateOptions> = {
  name: 'load-aggregate',
  description: 'time to load a decider state from streams of 100, 10,000 and 100,000 events, with and without snapshots',

  defineOptions(command: Command) {
    command
      .option('--lengths <list>', 'stream lengths (events), one measurement per value', '100,10000,100000')
      .option('--tail <n>', 'events appended after the snapshot', '50')
      .option('--loads <n>', 'loads per measurement (the median is reported)', '20');
    defineShared(command, ['partitions']);
  },

  parseOptions(raw) {
    return {
      lengths: positiveIntegers('lengths', raw.lengths),
      tail: positiveInteger('tail', raw.tail),
      loads: positiveInteger('loads', raw.loads),
      ...parseShared(raw, ['partitions']),
    };
  },

  run,

  notes(o) {
    return [
      `One EventStore (writer: true) owning every partition of a fresh ${o.partitions}-partition store, in this process: loads read its local index (the owner's), after the usual catch-up check.`,
      `Each stream: an Opened event, Deposited events in appends of 1,000, then one command through handle() with a decider that snapshots on every command, then ${o.tail} more events: a load with snapshots folds the snapshot's state and ${o.tail} events.`,
      'Without snapshots: the same stream loaded by the same decider with snapshotVersion 999, so that the stored snapshot (version 1) is ignored and every event is folded.',
      `Each figure is the median of ${o.loads} loads (fewer for the long streams without snapshots, at most 200,000 events folded per measurement); each load checks the version and balance it got.`,
    ];
  },

  summarize(medians, o) {
    const show = medianFormatter(medians);
    return [
      ...o.lengths.map((n) => `  ${String(n).padStart(7)} events: ${show(`n${n}.withSnapshotMs`, ' ms')} with a snapshot, ${show(`n${n}.withoutSnapshotMs`, ' ms')} without`),
      `  longest / shortest, with snapshots: ${show('longestOverShortestWithSnapshotRatio')} (issue 4 target: at most 2); without: ${show('longestOverShortestWithoutSnapshotRatio')}`,
    ];
  },
};
