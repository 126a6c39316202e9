// append-uncontended: how fast does one owner process append when appends never conflict?
// One EventStore (writer: true) owns every partition of a fresh store, so every append takes
// the fast path (no round trip through `<store>.appends`). The load generator keeps each
// stream's next expected version itself and gives every concurrent worker its own streams, so
// two appends in flight never target the same stream and none is rejected. Measured at each
// concurrency level, beside the raw transactional producer (raw-produce's own code paths) in
// the same repetition: group commit at the same concurrency is the reference of issue 3's
// target (Scribe at concurrency 64 >= 50% of it), batches of 100 and 1,000 records are shown too.
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import type { EventStore, KafkaEventStore } from '../../src/index.js';
import { positiveInteger, positiveIntegers, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { latencySummary, medianFormatter, perSecond, round } from '../stats.js';
import { appendsPerTransaction, batchesSince, CommittedBatches } from '../committed-batches.js';
import { besideRawReference, defineStoreBenchOptions, parseStoreBenchOptions, referenceOf, type StoreBenchOptions, memory, payloadOf, ratiosToRaw, withFreshStore, type Memory } from '../store-fixture.js';

export interface AppendUncontendedOptions extends StoreBenchOptions {
  readonly streams: number;
  readonly concurrency: number[];
  /** Appends (one event each) per concurrency level. */
  readonly appends: number;
  readonly progressEveryS: number;
}

const eventType = 'BenchAppended';
/** The group-commit reference needs no more than 20,000 records for a steady rate (the memory run appends 1,000,000). */
const groupCommitRecords = (o: AppendUncontendedOptions) => Math.min(o.appends, 20_000);
const streamId = (index: number) => `unc-${index}`;

interface LevelResult {
  readonly figures: Record<string, number>;
  readonly details: Record<string, unknown>;
}

/** One concurrency level: `appends` appends by `concurrency` workers, each over its own streams. */
async function measureLevel(store: EventStore, batches: CommittedBatches, o: AppendUncontendedOptions, concurrency: number, versions: Int32Array, log: (line: string) => void): Promise<LevelResult> {
  const total = o.appends;
  const events = [{ type: eventType, data: payloadOf(o.eventSize) }];
  const latencies = new Float64Array(total);
  let issued = 0;
  let done = 0;

  const trend: ({ elapsedS: number; appends: number } & Memory)[] = [];
  const committedBefore = batches.total();
  const started = performance.now();
  const progress = setInterval(() => {
    const sample = { elapsedS: round((performance.now() - started) / 1000, 1), appends: done, ...memory() };
    trend.push(sample);
    log(`  c${concurrency}: ${done}/${total} appends, ${perSecond(done, performance.now() - started)} /s so far, rss ${sample.rssMiB} MiB (anon ${sample.rssAnonMiB}, file ${sample.rssFileMiB})`);
  }, o.progressEveryS * 1000);

  // Worker w appends to streams w, w + c, w + 2c, ... in turn: no two appends in flight share a stream.
  const worker = async (w: number) => {
    const mine = Math.floor((o.streams - 1 - w) / concurrency) + 1;
    for (let j = 0; issued < total; j++) {
      const k = issued++;
      const s = w + concurrency * (j % mine);
      const began = performance.now();
      const result = await store.append(streamId(s), events, { expectedVersion: versions[s]! });
      latencies[k] = performance.now() - began;
      versions[s] = result.nextExpectedVersion;
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  } finally {
    clearInterval(progress);
  }
  const elapsedMs = performance.now() - started;
  const mem = memory();

  const latency = latencySummary(Array.from(latencies));
  // Every append of the level has settled, so every transaction that carried one has reported.
  const committed = batchesSince(committedBefore, batches.total());
  const perTransaction = appendsPerTransaction(committed);
  if (perTransaction === undefined) log(`  c${concurrency}: no batch-committed events: the writer does not report its transactions; appendsPerTransaction left out`);
  const eventsPerSec = perSecond(total, elapsedMs);
  return {
    figures: {
      eventsPerSec,
      p50Ms: latency.p50Ms,
      p99Ms: latency.p99Ms,
      rssMiB: mem.rssMiB,
      rssAnonMiB: mem.rssAnonMiB,
      ...(perTransaction === undefined ? {} : { transactionsPerSec: perSecond(committed.transactions, elapsedMs), appendsPerTransaction: perTransaction }),
    },
    details: { appends: total, elapsedMs: round(elapsedMs, 1), latency, transactions: committed.transactions, appendsCommitted: committed.appends, memoryAtEnd: mem, memoryTrend: trend },
  };
}

async function run(o: AppendUncontendedOptions, context: BenchContext): Promise<RepetitionResult> {
  const figures: Record<string, number> = {};
  const details: Record<string, unknown> = {};

  const scribe = () =>
    withFreshStore(context.brokers, { prefix: 'bench-unc', partitions: o.partitions, replicationFactor: o.replicationFactor, writer: true, log: context.log }, async ({ store, name, readyMs }) => {
      context.log(`store ${name}: connected and owning ${store.partitions} partitions in ${readyMs} ms`);
      details.store = { name, readyMs, memoryAtStart: memory() };
      const versions = new Int32Array(o.streams).fill(-1);
      const batches = new CommittedBatches();
      store.observe(batches.listener);
      // Every partition's writer completes one transaction before the clock starts.
      const primed = new Set<number>();
      const firsts: number[] = [];
      for (let s = 0; s < o.streams && primed.size < store.partitions; s++) {
        const partition = store.partitionOf(streamId(s));
        if (!primed.has(partition)) {
          primed.add(partition);
          firsts.push(s);
        }
      }
      await Promise.all(
        firsts.map(async (s) => {
          const result = await store.append(streamId(s), [{ type: eventType, data: payloadOf(o.eventSize) }], { expectedVersion: 'no_stream' });
          versions[s] = result.nextExpectedVersion;
        }),
      );
      for (const c of o.concurrency) {
        const level = await measureLevel(store, batches, o, c, versions, context.log);
        for (const [name, value] of Object.entries(level.figures)) figures[`c${c}.${name}`] = value;
        details[`c${c}`] = level.details;
        context.log(
          `concurrency ${c}: ${level.figures.eventsPerSec} events/s, p50 ${level.figures.p50Ms} ms, p99 ${level.figures.p99Ms} ms, ${level.figures.appendsPerTransaction ?? '-'} appends/transaction, rss ${level.figures.rssMiB} MiB`,
        );
      }
    });
  const groupCommit = { writers: o.concurrency, records: groupCommitRecords(o) };
  await besideRawReference(context, referenceOf(o, groupCommit), { figures, details }, scribe);
  for (const c of o.concurrency) ratiosToRaw(figures, `c${c}`, figures[`c${c}.eventsPerSec`]!, o.commitEvery, c);
  return { figures, details };
}

export const appendUncontended: Scenario<AppendUncontendedOptions> = {
  name: 'append-uncontended',
  description: 'one owner process, appends of one 256-byte event to distinct streams (no conflicts) at concurrency 1/8/64; ratio to the raw transactional producer',

  defineOptions(command: Command) {
    defineShared(defineStoreBenchOptions(command), ['streams', 'appends'], {
      streams: { description: 'distinct streams the appends go to (1000000 for the memory check)' },
      appends: { description: 'appends (one event each) per concurrency level' },
    })
      .option('--concurrency <list>', 'appends in flight, one measurement per value', '1,8,64')
      .option('--progress-every <s>', 'log progress and sample the RSS this often during a level', '10')
  },

  parseOptions(raw) {
    const o: AppendUncontendedOptions = {
      ...parseStoreBenchOptions(raw),
      ...parseShared(raw, ['streams', 'appends']),
      concurrency: positiveIntegers('concurrency', raw.concurrency),
      progressEveryS: positiveInteger('progress-every', raw.progressEvery),
    };
    const most = Math.max(...o.concurrency);
    if (most > o.streams) throw new Error(`--concurrency ${most} needs at least as many --streams (${o.streams}): each worker has its own streams`);
    if (o.partitions > 32_767) throw new Error('--partitions: at most 32767');
    return o;
  },

  run,

  notes(o) {
    return [
      `One EventStore (writer: true) on a fresh store (${o.partitions} partitions, RF ${o.replicationFactor}, local index under .scribe/bench/); the clock starts once it owns every partition and each partition's writer has committed one append. Every append is one event of ${o.eventSize} bytes of JSON data (a string), type ${eventType}, an id generated by Scribe, to one of ${o.streams} streams (unc-0..unc-${o.streams - 1}).`,
      `Per concurrency level (${o.concurrency.join(', ')}): ${o.appends} appends; worker w of c appends to streams w, w+c, w+2c, ... in turn with the exact expected version (kept by the load generator), so no append conflicts and no two in flight share a stream. Latency: from append() to its result. Levels run one after the other on the same store.`,
      'appendsPerTransaction: the appends the writers\' transactions carried / the transactions, both from the store\'s batch-committed events during the level.',
      `RSS: process.memoryUsage().rss of the bench process (the owner, plus the load generator's arrays) at the end of each level; rssAnonMiB is its anonymous part (/proc/self/status RssAnon), the rest is mapped files (code, the LevelDB index's tables). details.c<N>.memoryTrend samples it every ${o.progressEveryS} s.`,
      `Reference, same repetition: raw-produce's transactional measurements of the same client (bench/scenarios/raw-produce.ts), ${o.eventSize}-byte values round-robin over a fresh ${o.partitions}-partition topic. Group commit (measureRawGroupCommit), the target's reference: as many writers as the level's concurrency, each sending one record and waiting until the transaction holding it commits, ${groupCommitRecords(o)} records per level. Batches (measureRawTransactional): ${o.rawTransactions} transactions of N records (N = ${o.commitEvery.join(', ')}) one after the other, nobody waiting on a single record. Scribe and the reference alternate which runs first per repetition.`,
      'Figures are comparable only within one run (same machine, same broker, same moment); the machine is shared.',
    ];
  },

  summarize(medians, o) {
    const show = medianFormatter(medians);
    const lines = [`  ${o.streams.toLocaleString('en-US')} streams, ${o.appends.toLocaleString('en-US')} appends per level`];
    for (const c of o.concurrency) {
      lines.push(
        `  concurrency ${String(c).padEnd(3)} ${show(`c${c}.eventsPerSec`, ' events/s')}, p50 ${show(`c${c}.p50Ms`, ' ms')}, p99 ${show(`c${c}.p99Ms`, ' ms')}, ${show(`c${c}.appendsPerTransaction`)} appends/txn, rss ${show(`c${c}.rssMiB`, ' MiB')}` +
          `; / raw group commit of ${c}: ${show(`c${c}.overRawGroupRatio`)}; / raw batches ${o.commitEvery.map((n) => `of ${n}: ${show(`c${c}.overRawTxn${n}Ratio`)}`).join(', ')}`,
      );
    }
    for (const c of o.concurrency) {
      lines.push(
        `  raw transactional, group commit of ${c} writers: ${show(`raw.txn-group-${c}.recordsPerSec`, ' records/s')} (${show(`raw.txn-group-${c}.recordsPerTransaction`)} per transaction, p50 ${show(`raw.txn-group-${c}.p50Ms`, ' ms')})`,
      );
    }
    for (const n of o.commitEvery) {
      lines.push(`  raw transactional, batches of ${n}: ${show(`raw.txn-every-${n}.recordsPerSec`, ' records/s')} (transaction p50 ${show(`raw.txn-every-${n}.transactionP50Ms`, ' ms')})`);
    }
    // docs/decisions/0006-throughput-reference.md: the target compares like with like; the
    // verdict against batches (the reading before that decision) is printed beside it.
    const verdict = (ratio: number | undefined) => (ratio === undefined ? '-' : `${ratio} -> ${ratio >= 0.5 ? 'met' : 'MISSED'}`);
    if (medians['c64.overRawGroupRatio'] !== undefined) {
      lines.push(`  issue 3 target (c64 >= 0.5 x the raw transactional producer at 64 writers, decision 0006): ${verdict(medians['c64.overRawGroupRatio'])}`);
      lines.push(`    the same against raw batches: ${o.commitEvery.map((n) => `of ${n}: ${verdict(medians[`c64.overRawTxn${n}Ratio`])}`).join(', ')}`);
    }
    return lines;
  },
};
