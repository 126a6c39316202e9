// compare: Scribe side by side with the raw Kafka client it uses and with Emmett on PostgreSQL
// (issue 7), the same workloads in one run: concurrent-writers, hot-stream, read-stream and
// catch-up (bench/compare/). Every Scribe and Emmett measurement is read back and checked; the
// run fails on a lost or duplicated event. Writes a chart and a Markdown table besides the result.
import { writeFileSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../src/local-kafka/home.js';
import { CatchUpLog, type CatchUpOptions } from '../compare/catch-up.js';
import { compareChart } from '../compare/chart.js';
import { concurrentWriters, type ConcurrentWritersOptions } from '../compare/concurrent-writers.js';
import { hotStream, type HotStreamOptions } from '../compare/hot-stream.js';
import { panelsOf } from '../compare/panels.js';
import { connectEmmett, defaultPostgresUrl, FreshDatabase, postgresFacts, type EmmettStore, type PostgresFacts } from '../compare/postgres.js';
import { readStream, type ReadStreamOptions } from '../compare/read-stream.js';
import { addRatios, markdownReport, ratioDefinitions, readRatioDefinitions, targets, verdict, type RatioPlan } from '../compare/report.js';
import type { SelfCheckSummary } from '../compare/self-check.js';
import { systemNames, workloadNames, type SystemName, type WorkloadContext, type WorkloadName, type WorkloadResult } from '../compare/workload.js';
import { packageVersion } from '../environment.js';
import { positiveInteger, positiveIntegers, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { medianFormatter } from '../stats.js';
import { randomSuffix } from '../store-fixture.js';

export interface CompareOptions {
  readonly smoke: boolean;
  readonly systems: SystemName[];
  readonly workloads: WorkloadName[];
  readonly concurrentWriters: ConcurrentWritersOptions;
  readonly hotStream: HotStreamOptions;
  readonly readStream: ReadStreamOptions;
  readonly catchUp: CatchUpOptions;
  readonly postgresUrl: string;
  readonly poolSize: number;
  readonly chartDir: string;
}

/** Sizes of a full run, and of --smoke (a few hundred events per system, for CI). Options given explicitly win. */
const sizes = {
  full: { events: 2000, streams: 10_000, commands: 300, readEvents: 1000, aggregateEvents: 100_000, reads: 20, catchUpEvents: 1_000_000, emmettConsumerEvents: 50_000, rawTransactions: 50 },
  smoke: { events: 100, streams: 200, commands: 20, readEvents: 100, aggregateEvents: 1000, reads: 3, catchUpEvents: 500, emmettConsumerEvents: 200, rawTransactions: 3 },
};

function listOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T[] {
  const items = String(value)
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  for (const item of items) if (!(allowed as readonly string[]).includes(item)) throw new Error(`--${name}: unknown "${item}"; use ${allowed.join(', ')}`);
  return items as T[];
}

/** What the repetitions of one run share: the catch-up log, written once and only read, and its database. */
interface RunResources {
  /** Names this run's databases: scribe_bench_<stamp>_<purpose>. */
  readonly stamp: string;
  catchUp?: CatchUpLog;
  readonly databases: FreshDatabase[];
}

let resources: RunResources | undefined;
/** The PostgreSQL server's facts, recorded with the versions of the run. */
let serverFacts: PostgresFacts | undefined;

async function freshDatabase(shared: RunResources, url: string, purpose: string): Promise<FreshDatabase> {
  const database = await FreshDatabase.create(url, `scribe_bench_${shared.stamp}_${purpose}`);
  shared.databases.push(database);
  return database;
}

async function run(o: CompareOptions, context: BenchContext): Promise<RepetitionResult> {
  const systems = new Set(o.systems);
  resources ??= { stamp: new Date().toISOString().replace(/[-:.]/g, '').toLowerCase().slice(0, 15), databases: [] };
  const shared = resources;
  const label = `${context.warmUp ? 'w' : 'r'}${context.repetition}`;
  // Emmett writes into a database of this repetition's own, as Scribe gets fresh topics per workload.
  let writes: { database: FreshDatabase; emmett: EmmettStore } | undefined;
  if (systems.has('emmett')) {
    serverFacts ??= await postgresFacts(o.postgresUrl);
    const database = await freshDatabase(shared, o.postgresUrl, label);
    writes = { database, emmett: await connectEmmett(database.url, o.poolSize) };
    context.log(`emmett: database ${database.name} on PostgreSQL ${serverFacts.serverVersion} (fsync ${serverFacts.fsync}, synchronous_commit ${serverFacts.synchronousCommit}), pool of ${o.poolSize}`);
  }
  try {
    const workloadContext: WorkloadContext = { brokers: context.brokers, systems, repetition: context.repetition, emmett: writes?.emmett, tag: `${label}-${randomSuffix()}`, log: context.log };
    const results: WorkloadResult[] = [];
    for (const workload of o.workloads) {
      if (workload === 'concurrent-writers') results.push(await concurrentWriters(o.concurrentWriters, workloadContext));
      if (workload === 'hot-stream') results.push(await hotStream(o.hotStream, workloadContext));
      if (workload === 'read-stream') results.push(await readStream(o.readStream, workloadContext));
      if (workload === 'catch-up') {
        shared.catchUp ??= await CatchUpLog.write(o.catchUp, workloadContext, () => freshDatabase(shared, o.postgresUrl, 'log'));
        results.push(await shared.catchUp.measure(o.catchUp, workloadContext));
      }
    }
    const figures: Record<string, number> = Object.assign({}, ...results.map((r) => r.figures));
    addRatios(figures, [...ratioDefinitions(ratioPlan(o)), ...readRatioDefinitions(o.readStream.events, o.readStream.aggregateEvents)]);
    const selfChecks: SelfCheckSummary[] = results.flatMap((r) => r.selfChecks);
    for (const check of selfChecks) figures[`selfChecks.${check.system}.${check.workload}.eventsReadBack`] = check.events;
    context.log(`self-checks passed: ${selfChecks.map((c) => `${c.system} ${c.workload} (${c.events} events in ${c.streams} streams)`).join(', ')}`);
    return { figures, details: { selfChecks, postgres: serverFacts, ...Object.assign({}, ...results.map((r) => r.details)) } };
  } finally {
    if (writes) {
      await writes.emmett.close();
      await writes.database.drop();
      shared.databases.splice(shared.databases.indexOf(writes.database), 1);
    }
  }
}

function ratioPlan(o: CompareOptions): RatioPlan {
  return { writers: o.concurrentWriters.writers, hotWriters: o.hotStream.writers, commitEvery: o.concurrentWriters.commitEvery };
}

async function release(): Promise<void> {
  const shared = resources;
  resources = undefined;
  if (!shared) return;
  await shared.catchUp?.remove();
  for (const database of shared.databases) await database.drop();
}

export const compare: Scenario<CompareOptions> = {
  name: 'compare',
  description: 'Scribe vs the raw Kafka producer/consumer vs Emmett on PostgreSQL: concurrent-writers, hot-stream, read-stream, catch-up; chart and table',

  defineOptions(command: Command) {
    command
      .option('--smoke', 'tiny sizes (a few hundred events per system) for CI; use with --repeat 1 --warmup 0')
      .option('--systems <list>', `systems to measure (${systemNames.join(',')})`, systemNames.join(','))
      .option('--workloads <list>', `workloads to run (${workloadNames.join(',')})`, workloadNames.join(','))
      .option('--events <n>', `concurrent-writers: appends (one event each) per writers level (${sizes.full.events}; smoke ${sizes.smoke.events})`)
      .option('--streams <n>', `concurrent-writers and catch-up: streams (${sizes.full.streams}; smoke ${sizes.smoke.streams})`)
      .option('--writers <list>', 'concurrent-writers: concurrent writers, one level per value', '4,16,64')
      .option('--hot-writers <list>', 'hot-stream: concurrent writers on the one stream, one level per value', '8,32')
      .option('--commands <n>', `hot-stream: accepted commands per level and path (${sizes.full.commands}; smoke ${sizes.smoke.commands})`)
      .option('--read-events <n>', `read-stream: events of the stream read whole (${sizes.full.readEvents}; smoke ${sizes.smoke.readEvents})`)
      .option('--aggregate-events <n>', `read-stream: events of the aggregate loaded (${sizes.full.aggregateEvents}; smoke ${sizes.smoke.aggregateEvents})`)
      .option('--reads <n>', `read-stream: timed reads and loads per measurement (${sizes.full.reads}; smoke ${sizes.smoke.reads})`)
      .option('--catch-up-events <n>', `catch-up: stored events read from the start (${sizes.full.catchUpEvents}; smoke ${sizes.smoke.catchUpEvents})`)
      .option('--emmett-catch-up-events <n>', "catch-up: events in Emmett's log, when fewer than --catch-up-events")
      .option('--emmett-consumer-events <n>', `catch-up: the first events Emmett's consumer (checkpointing every message) reads (${sizes.full.emmettConsumerEvents}; smoke ${sizes.smoke.emmettConsumerEvents})`)
      .option('--emmett-log-writers <n>', "catch-up: appends in flight while Emmett's log is written (more than 1 makes Emmett 0.42's consumer skip events)", '1')
      .option('--raw-transactions <n>', `raw transactional reference: transactions per measurement (${sizes.full.rawTransactions}; smoke ${sizes.smoke.rawTransactions})`)
      .option('--pg-url <url>', 'PostgreSQL server for Emmett (fresh databases are created there for the run and dropped)', defaultPostgresUrl)
      .option('--pg-pool-size <n>', "Emmett's connection pool (default: the most concurrent writers of any workload)")
      .option('--chart-dir <dir>', 'where the chart (SVG) and the Markdown table go', 'bench/results');
    defineShared(command, ['eventSize', 'partitions', 'commitEvery', 'caseTimeoutMs'], {
      partitions: { description: 'partitions of every fresh store and topic' },
      caseTimeoutMs: { description: 'give up on one raw measurement or catch-up reader after this long', defaultValue: '600000' },
    });
  },

  parseOptions(raw) {
    const smoke = raw.smoke === true;
    const size = smoke ? sizes.smoke : sizes.full;
    const sized = (name: string, key: string, fallback: number) => (raw[key] === undefined ? fallback : positiveInteger(name, raw[key]));
    const { eventSize, partitions, caseTimeoutMs, commitEvery } = parseShared(raw, ['eventSize', 'partitions', 'caseTimeoutMs', 'commitEvery']);
    const streams = sized('streams', 'streams', size.streams);
    const writers = positiveIntegers('writers', raw.writers);
    const hotWriters = positiveIntegers('hot-writers', raw.hotWriters);
    if (Math.max(...writers) > streams) throw new Error(`--writers ${Math.max(...writers)} needs at least as many --streams (${streams}): no two writers append to one stream at once`);
    const catchUpEvents = sized('catch-up-events', 'catchUpEvents', size.catchUpEvents);
    const aggregateEvents = sized('aggregate-events', 'aggregateEvents', size.aggregateEvents);
    if (aggregateEvents < 100) throw new Error('--aggregate-events: at least 100 (a snapshot and a tail of events are written)');
    const chartDir = String(raw.chartDir);
    return {
      smoke,
      systems: listOf('systems', raw.systems, systemNames),
      workloads: listOf('workloads', raw.workloads, workloadNames),
      concurrentWriters: {
        streams,
        writers,
        appends: sized('events', 'events', size.events),
        eventSize,
        partitions,
        commitEvery,
        rawTransactions: sized('raw-transactions', 'rawTransactions', size.rawTransactions),
        caseTimeoutMs,
      },
      hotStream: { writers: hotWriters, commands: sized('commands', 'commands', size.commands), partitions },
      readStream: { events: sized('read-events', 'readEvents', size.readEvents), aggregateEvents, reads: sized('reads', 'reads', size.reads), eventSize, partitions },
      catchUp: { events: catchUpEvents, emmettEvents: Math.min(catchUpEvents, sized('emmett-catch-up-events', 'emmettCatchUpEvents', catchUpEvents)), emmettLogWriters: positiveInteger('emmett-log-writers', raw.emmettLogWriters), emmettConsumerEvents: Math.min(catchUpEvents, sized('emmett-consumer-events', 'emmettConsumerEvents', size.emmettConsumerEvents)), streams, eventSize, partitions, caseTimeoutMs },
      postgresUrl: String(raw.pgUrl),
      poolSize: sized('pg-pool-size', 'pgPoolSize', Math.max(...writers, ...hotWriters)),
      chartDir: isAbsolute(chartDir) ? chartDir : join(packageRoot(), chartDir),
    };
  },

  run,
  release,

  versions() {
    const entries: [string, string | undefined][] = [
      ['@event-driven-io/emmett', packageVersion('@event-driven-io/emmett')],
      ['@event-driven-io/emmett-postgresql', packageVersion('@event-driven-io/emmett-postgresql')],
      ['pg', packageVersion('pg')],
      ['postgresql', serverFacts?.serverVersion],
    ];
    return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
  },

  notes(o) {
    const cw = o.concurrentWriters;
    return [
      `Systems: ${o.systems.join(', ')}; workloads: ${o.workloads.join(', ')}${o.smoke ? '; SMOKE sizes (not a measurement)' : ''}. In each repetition the order of the systems within a workload rotates.`,
      `Scribe: one EventStore (writer: true) owning every partition of a fresh ${cw.partitions}-partition store (RF 1) per workload and repetition, on the local broker. Raw: the same client (@confluentinc/kafka-javascript) through Scribe's KafkaProducer/KafkaConsumer. Emmett: @event-driven-io/emmett-postgresql on ${o.postgresUrl.replace(/\/[^/]*$/, '')}, a fresh database per repetition for the writing workloads (scribe_bench_<time>_r<N>) and one per run for catch-up (_log), each dropped when done; a pg pool of ${o.poolSize} connections (pg's default would be 10); PostgreSQL settings in details. Kafka runs with RF 1 and does not fsync on commit; PostgreSQL fsyncs its WAL on every commit unless synchronous_commit is off (recorded).`,
      `concurrent-writers: ${cw.writers.join('/')} writers; ${cw.appends} appends of one ${cw.eventSize}-byte event (JSON {"p":"x…"}) per level, each to a stream chosen uniformly among ${cw.streams} that no other writer is appending to, with its exact expected version (no conflicts). Latency: append call to result. Raw idempotent: ${cw.appends} records of ${cw.eventSize} bytes per level with as many sends in flight as writers (raw-produce's latency case). Raw transactional: raw-produce's reference, ${cw.rawTransactions} transactions of N records (N = ${cw.commitEvery.join(', ')}), its latency the transaction's.`,
      `hot-stream: one fresh stream per level, opened first; ${o.hotStream.writers.join('/')} writers issue Deposit commands of examples/bank-account.ts until ${o.hotStream.commands} were accepted. Scribe execute (at the owner) and handle (load, decide, append, retry 1-50 ms jittered backoff); Emmett CommandHandler (aggregateStream, decide, appendToStream with the read version) retrying version conflicts with the same backoff (async-retry: minTimeout 1, maxTimeout 50, factor 2, randomize). Retries = attempts - commands.`,
      `read-stream: a stream of ${o.readStream.events} events read whole ${o.readStream.reads} times (events/s = events / median read time); an aggregate of ${o.readStream.aggregateEvents} events (Opened + Deposited) loaded: Scribe store.load with a snapshot near the head (50 events folded after it), Emmett aggregateStream folding every event (it has no snapshots), fewer loads (at least 3, about 300,000 events folded per measurement).`,
      `catch-up: ${o.catchUp.events} events over ${o.catchUp.streams} streams written once per run (Kafka: a raw transactional producer in Scribe's record format, as the owners would; Emmett: ${o.catchUp.emmettEvents} events by appendToStream of 100 events, ${o.catchUp.emmettLogWriters} append(s) in flight: with more, Emmett 0.42's consumer skips events of transactions whose global positions interleave), then read from the start by a new reader per repetition, each checking every stream's positions: Scribe subscribe({ from: 'start' }) (unnamed: no checkpoints) on a store connected with writer: false; the raw consumer of the same client (read_committed, batches of 500, records counted); Emmett's global-log reader postgreSQLEventStoreMessageBatchPuller (batches of 500, no checkpoints); and Emmett's consumer with a reactor (a checkpoint stored per message) on the first ${o.catchUp.emmettConsumerEvents} events only. Emmett's pullingFrequencyInMs is 0 (its default of 50 ms between batches would cap it at 10,000 events/s). Time: from creating the reader to its last event.`,
      'Self-checks: after each Scribe and Emmett measurement every written stream is read back (readStream) and must hold exactly the acknowledged events at consecutive positions; catch-up readers check each stream\'s positions as they arrive and the total. Any failure fails the run.',
      'Ratios are computed within each repetition, then their median is reported. Figures are comparable only within one run; the machine is shared.',
    ];
  },

  summarize(medians, o) {
    const show = medianFormatter(medians);
    const lines: string[] = [];
    for (const panel of panelsOf(medians)) {
      lines.push(`  ${panel.title} (${panel.rateUnit}; p50/p95/p99 ms):`);
      for (const row of panel.rows) {
        lines.push(`    ${row.variant.padEnd(18)} ${row.rate === undefined ? '-' : row.rate.toLocaleString('en-US').padStart(10)}   ${[row.p50Ms, row.p95Ms, row.p99Ms].map((v) => (v === undefined ? '-' : String(v))).join(' / ')}${row.retriesPerCommand !== undefined ? `, ${row.retriesPerCommand} retries/command` : ''}${row.processCpuPct !== undefined ? `; cpu ${row.processCpuPct}% process, ${row.brokerCpuPct}% broker, ${row.machineCpuPct}% machine` : ''}`);
      }
    }
    lines.push('  ratios (medians of per-repetition ratios):');
    for (const r of [...ratioDefinitions(ratioPlan(o)), ...readRatioDefinitions(o.readStream.events, o.readStream.aggregateEvents)]) if (medians[r.name] !== undefined) lines.push(`    ${r.label}: ${show(r.name)}`);
    lines.push('  targets:');
    for (const target of targets(ratioPlan(o))) lines.push(`    ${target.label}: ${verdict(target, medians).text}`);
    return lines;
  },

  publish(finished, o) {
    const stamp = finished.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    mkdirSync(o.chartDir, { recursive: true });
    const chartFile = join(o.chartDir, `compare-${stamp}.svg`);
    const tableFile = join(o.chartDir, `compare-${stamp}.md`);
    const panels = panelsOf(finished.medians);
    const m = finished.machine;
    const versionLine = Object.entries(finished.versions).map(([name, version]) => `${name} ${version}`).join(', ');
    writeFileSync(
      chartFile,
      compareChart(
        {
          title: `Scribe vs raw Kafka vs Emmett on PostgreSQL, ${finished.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
          subtitle: [
            ...(o.smoke ? ['SMOKE sizes (a few hundred events): a check that the harness works, not a measurement'] : []),
            `${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, load ${m.loadAverage1m} at start; medians of ${finished.repeat} repetition(s), ${finished.warmups} warm-up(s) discarded`,
            versionLine,
            finished.command,
          ],
        },
        panels,
      ),
    );
    const root = packageRoot();
    writeFileSync(
      tableFile,
      markdownReport(
        { startedAt: finished.startedAt, command: finished.command, cpus: m.cpus, cpuModel: m.cpuModel, memoryGiB: m.memoryGiB, loadAverage1m: m.loadAverage1m, node: m.node, versions: finished.versions, repeat: finished.repeat, warmups: finished.warmups, resultFile: relative(root, finished.file), chartFile: relative(root, chartFile) },
        panels,
        [...ratioDefinitions(ratioPlan(o)), ...readRatioDefinitions(o.readStream.events, o.readStream.aggregateEvents)],
        targets(ratioPlan(o)),
        finished.medians,
      ),
    );
    return [`chart: ${relative(process.cwd(), chartFile) || chartFile}`, `table: ${relative(process.cwd(), tableFile) || tableFile}`];
  },
};
