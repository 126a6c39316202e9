// growth: what does growing a live store cost its writers? One owner process appends without
// conflicts at a fixed concurrency; after a while the store grows (4 to 12 partitions by
// default) and the load goes on. Measured: throughput before, during and after, how long each
// moving shard took no appends (seal to open), the longest wait of an append to a moving and to
// a staying stream during the growth, and the longest gap in the whole store's completions.
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { partitionForKey } from '../../src/index.js';
import { positiveInteger, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { latencySummary, medianFormatter, perSecond, round } from '../stats.js';
import { payloadOf, withFreshStore } from '../store-fixture.js';

export interface GrowthOptions {
  readonly from: number;
  readonly to: number;
  readonly streams: number;
  readonly concurrency: number;
  readonly beforeS: number;
  readonly afterS: number;
  readonly eventSize: number;
}

const streamId = (index: number) => `grow-${index}`;

interface Completion {
  readonly stream: number;
  readonly startedMs: number;
  readonly endedMs: number;
}

async function run(o: GrowthOptions, context: BenchContext): Promise<RepetitionResult> {
  return withFreshStore(context.brokers, { prefix: 'bench-grow', partitions: o.from, replicationFactor: 1, writer: true, log: context.log }, async ({ store, name }) => {
    const versions = new Int32Array(o.streams).fill(-1);
    const moves = Array.from({ length: o.streams }, (_, s) => partitionForKey(streamId(s), o.from) !== partitionForKey(streamId(s), o.to));
    const events = [{ type: 'BenchAppended', data: payloadOf(o.eventSize) }];
    const completions: Completion[] = [];
    let running = true;
    const origin = performance.now();
    const now = () => performance.now() - origin;

    // Worker w appends to streams w, w + c, ... in turn: no conflicts, no two in flight on one stream.
    const worker = async (w: number) => {
      const mine = Math.floor((o.streams - 1 - w) / o.concurrency) + 1;
      for (let j = 0; running; j++) {
        const s = w + o.concurrency * (j % mine);
        const startedMs = now();
        const result = await store.append(streamId(s), events, { expectedVersion: versions[s]! < 0 ? 'no_stream' : versions[s]! });
        versions[s] = result.nextExpectedVersion;
        completions.push({ stream: s, startedMs, endedMs: now() });
      }
    };
    const workers = Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));

    await new Promise((resolve) => setTimeout(resolve, o.beforeS * 1000));
    const growStartMs = now();
    const pauses: number[] = [];
    context.log(`growing ${name} from ${o.from} to ${o.to} partitions under load`);
    const grown = await store.grow(o.to, { onProgress: (p) => p.completed && pauses.push(p.completed.pauseMs) });
    const growEndMs = now();
    context.log(`grown in ${round(growEndMs - growStartMs)} ms: ${grown.moves.length} moves, pauses ${pauses.join(', ')} ms`);
    await new Promise((resolve) => setTimeout(resolve, o.afterS * 1000));
    running = false;
    await workers;
    const endMs = now();

    // Self-check: every stream holds exactly the appends acknowledged to it, in version order.
    for (let s = 0; s < o.streams; s++) {
      let expected = 0;
      for await (const event of store.readStream(streamId(s))) {
        if (event.version !== expected) throw new Error(`${streamId(s)}: read version ${event.version} where ${expected} was expected`);
        expected++;
      }
      if (expected !== versions[s]! + 1) throw new Error(`${streamId(s)}: ${expected} events read, ${versions[s]! + 1} acknowledged`);
    }

    const phase = (from: number, to: number) => completions.filter((c) => c.endedMs >= from && c.endedMs < to);
    const before = phase(0, growStartMs);
    const during = phase(growStartMs, growEndMs);
    const after = phase(growEndMs, endMs);
    // Every append that was in flight at some point of the growth, also one that ended after it.
    const overlapping = completions.filter((c) => c.endedMs >= growStartMs && c.startedMs <= growEndMs);
    const waits = (list: Completion[], moved: boolean) => list.filter((c) => moves[c.stream] === moved).map((c) => c.endedMs - c.startedMs);
    // The longest stretch touching the growth in which no append of the store completed.
    const ended = completions.map((c) => c.endedMs).sort((a, b) => a - b);
    let longestGap = 0;
    for (let i = 1; i < ended.length; i++) {
      if (ended[i]! >= growStartMs && ended[i - 1]! <= growEndMs) longestGap = Math.max(longestGap, ended[i]! - ended[i - 1]!);
    }
    const maxOf = (values: number[]) => round(values.length > 0 ? Math.max(...values) : 0);
    const sortedPauses = [...pauses].sort((a, b) => a - b);
    const beforeLatency = latencySummary(before.map((c) => c.endedMs - c.startedMs));
    const afterLatency = latencySummary(after.map((c) => c.endedMs - c.startedMs));
    return {
      figures: {
        beforeEventsPerSec: perSecond(before.length, growStartMs),
        duringEventsPerSec: perSecond(during.length, growEndMs - growStartMs),
        afterEventsPerSec: perSecond(after.length, endMs - growEndMs),
        growMs: round(growEndMs - growStartMs),
        shardPauseP50Ms: sortedPauses[Math.floor(sortedPauses.length / 2)] ?? 0,
        shardPauseMaxMs: sortedPauses[sortedPauses.length - 1] ?? 0,
        movingStreamMaxWaitMs: maxOf(waits(overlapping, true)),
        stayingStreamMaxWaitMs: maxOf(waits(overlapping, false)),
        longestStoreGapMs: round(longestGap),
        beforeP50Ms: beforeLatency.p50Ms,
        beforeP99Ms: beforeLatency.p99Ms,
        afterP50Ms: afterLatency.p50Ms,
        afterP99Ms: afterLatency.p99Ms,
      },
      details: { store: name, moves: grown.moves, pausesMs: pauses, appends: completions.length, movingStreams: moves.filter(Boolean).length },
    };
  });
}

export const growth: Scenario<GrowthOptions> = {
  name: 'growth',
  description: 'one owner process appends without conflicts while the store grows (4 to 12 partitions): per-shard pause, store-wide gap, throughput before/during/after',

  defineOptions(command: Command) {
    command
      .option('--from <n>', 'partitions the store is created with', '4')
      .option('--to <n>', 'partitions it grows to', '12')
      .option('--concurrency <n>', 'appends in flight', '32')
      .option('--before <s>', 'seconds of load before the growth', '5')
      .option('--after <s>', 'seconds of load after it', '5');
    defineShared(command, ['streams', 'eventSize']);
  },

  parseOptions(raw) {
    const o: GrowthOptions = {
      from: positiveInteger('from', raw.from),
      to: positiveInteger('to', raw.to),
      ...parseShared(raw, ['streams', 'eventSize']),
      concurrency: positiveInteger('concurrency', raw.concurrency),
      beforeS: positiveInteger('before', raw.before),
      afterS: positiveInteger('after', raw.after),
    };
    if (o.to <= o.from) throw new Error('--to must be larger than --from');
    if (o.concurrency > o.streams) throw new Error('--concurrency needs at least as many --streams');
    return o;
  },

  run,

  notes(o) {
    return [
      `One EventStore (writer: true) owns every partition of a fresh ${o.from}-partition store; ${o.concurrency} workers append one ${o.eventSize}-byte event at a time to ${o.streams} streams (each worker its own streams, exact expected versions: no conflicts) for ${o.beforeS} s, then store.grow(${o.to}) runs under that load, then ${o.afterS} s more.`,
      'shardPause: per shard move, the time between its seal and its open commits (ShardMove.sealedTime to openedTime), when its streams take no appends. movingStreamMaxWait / stayingStreamMaxWait: the longest append (start to result) in flight at some point of the growth, to a stream that moves / stays. longestStoreGap: the longest time during the growth in which no append of the whole store completed (the writer group\'s cooperative rebalance when the new partitions appear moves only those).',
      'Self-check after the run: every stream is read back and must hold exactly its acknowledged appends, versions 0..n-1.',
    ];
  },

  summarize(medians) {
    const show = medianFormatter(medians);
    return [
      `  events/s before ${show('beforeEventsPerSec')}, during ${show('duringEventsPerSec')}, after ${show('afterEventsPerSec')}; growth took ${show('growMs', ' ms')}`,
      `  per moving shard, no appends for ${show('shardPauseP50Ms', ' ms')} (median), ${show('shardPauseMaxMs', ' ms')} (max)`,
      `  longest append during growth: to a moving stream ${show('movingStreamMaxWaitMs', ' ms')}, to a staying one ${show('stayingStreamMaxWaitMs', ' ms')}; longest store-wide gap ${show('longestStoreGapMs', ' ms')}`,
      `  latency before p50 ${show('beforeP50Ms', ' ms')} p99 ${show('beforeP99Ms', ' ms')}; after p50 ${show('afterP50Ms', ' ms')} p99 ${show('afterP99Ms', ' ms')}`,
    ];
  },
};
