// scale-out: does the store's append throughput grow with its writer processes (issue 6,
// item 4)? Writer processes join one store's writer group one after the other (1, then 2, then
// 4 by default), each generating uncontended load for the partitions it owns; per step the
// events/s, latency and the CPU of every process, and the pause a join or a leave causes.
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import type { EventStore, KafkaEventStore } from '../../src/index.js';
import { localBrokerPids, machineCpu, processCpuS } from '../cpu.js';
import { positiveInteger, positiveIntegers, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { latencySummary, median, medianFormatter, perSecond, round } from '../stats.js';
import { benchDataDir, payloadOf, withFreshStore } from '../store-fixture.js';
import type { LoadTarget, WindowReport } from '../writer-process.js';
import { BenchWriter } from '../writer-processes.js';

export interface ScaleOutOptions {
  /** Writer processes at each measured step, ascending: processes are added between steps. */
  readonly processes: number[];
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly eventSize: number;
  /** Appends in flight in all, split evenly over the processes. */
  readonly concurrency: number;
  /** Streams in all, split evenly over the processes. */
  readonly streams: number;
  readonly loadAt: LoadTarget;
  readonly measureS: number;
  /** Before the load starts at each step, the CPU of the idle processes is measured this long. */
  readonly idleS: number;
  /** Load runs this long after every (re)start before a measurement window opens. */
  readonly warmS: number;
  /** Pause between two probe appends to one partition. */
  readonly probeIntervalMs: number;
  readonly settleTimeoutMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Epoch milliseconds with sub-millisecond precision, the clock the writer processes report in. */
const now = () => performance.timeOrigin + performance.now();

/** CPU counters of everything that takes part, read at one instant. */
interface CpuSnapshot {
  readonly at: number;
  readonly writersS: number[];
  readonly parentS: number;
  readonly brokerS: number | undefined;
  readonly machineBusyS: number;
}

async function cpuSnapshot(writers: readonly BenchWriter[], brokerPids: readonly number[]): Promise<CpuSnapshot> {
  const at = now();
  const parent = process.cpuUsage();
  const machine = machineCpu();
  const broker = brokerPids.length === 0 ? undefined : brokerPids.reduce((sum, pid) => sum + (processCpuS(pid) ?? Number.NaN), 0);
  const samples = await Promise.all(writers.map((w) => w.sample()));
  return {
    at,
    writersS: samples.map((s) => s.cpuUs / 1e6),
    parentS: (parent.user + parent.system) / 1e6,
    brokerS: broker,
    machineBusyS: machine.busyS,
  };
}

/** Cores used between two snapshots (CPU seconds per wall second), by role. */
function coresBetween(a: CpuSnapshot, b: CpuSnapshot) {
  const wallS = (b.at - a.at) / 1000;
  const cores = (cpuS: number) => round(cpuS / wallS, 2);
  const perWriter = b.writersS.map((s, i) => cores(s - a.writersS[i]!));
  const writers = perWriter.reduce((sum, c) => sum + c, 0);
  const broker = a.brokerS !== undefined && b.brokerS !== undefined ? cores(b.brokerS - a.brokerS) : Number.NaN;
  const parent = cores(b.parentS - a.parentS);
  const machineBusy = cores(b.machineBusyS - a.machineBusyS);
  // What the machine did besides this benchmark: other engineers' tests, their brokers.
  const other = Number.isNaN(broker) ? Number.NaN : round(machineBusy - writers - broker - parent, 2);
  return { wallS, perWriter, writers: round(writers, 2), broker, parent, machineBusy, other };
}

/**
 * Polls every writer's owned partitions until the group has settled on `writers`: each owns at
 * least one partition (there are no more processes than partitions), no partition has two
 * owners, together they own all, and the same holds at two polls in a row.
 */
async function settled(writers: readonly BenchWriter[], partitions: number, timeoutMs: number): Promise<number[][]> {
  const deadline = Date.now() + timeoutMs;
  let previous = '';
  for (;;) {
    const owned = await Promise.all(writers.map((w) => w.owned()));
    const all = owned.flat();
    const key = JSON.stringify(owned);
    const complete = owned.every((o) => o.length > 0 || writers.length > partitions) && all.length === partitions && new Set(all).size === partitions;
    if (complete && key === previous) return owned;
    previous = complete ? key : '';
    if (Date.now() > deadline) throw new Error(`the writer group did not settle on ${writers.length} processes within ${timeoutMs} ms: owned ${key}`);
    await sleep(100);
  }
}

/**
 * One append in flight per partition, from the scenario's own store (writer: false), so every
 * probe append goes through `<store>.appends` to whichever process owns its partition at the
 * time: the longest interval without an acknowledged probe append on a partition is how long
 * that partition could not be written. Expected version 'any': the probe measures availability,
 * not the version check.
 */
class Probe {
  private running = true;
  private readonly acks: number[][];
  private readonly failures: string[] = [];
  private readonly done: Promise<void>;

  constructor(store: KafkaEventStore, prefix: string, intervalMs: number) {
    this.acks = Array.from({ length: store.partitions }, () => []);
    // One stream per partition: names tried in turn until every partition has one.
    const streams = new Array<string>(store.partitions);
    for (let k = 0, found = 0; found < store.partitions; k++) {
      const id = `${prefix}-${k}`;
      const p = store.partitionOf(id);
      if (streams[p] === undefined) {
        streams[p] = id;
        found++;
      }
    }
    const events = [{ type: 'ScaleOutProbe', data: payloadOf(64) }];
    this.done = Promise.all(
      streams.map(async (streamId, p) => {
        while (this.running) {
          try {
            await store.append(streamId, events, { expectedVersion: 'any' });
            this.acks[p]!.push(now());
          } catch (error) {
            this.failures.push((error as { code?: string }).code ?? 'UNKNOWN');
          }
          await sleep(intervalMs);
        }
      }),
    ).then(() => undefined);
  }

  /** Resolves when every partition has had an acknowledged probe append after `at`. */
  async answeredAfter(at: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.acks.every((list) => (list.at(-1) ?? 0) > at)) {
      if (Date.now() > deadline) throw new Error(`probe: partitions ${this.acks.flatMap((list, p) => ((list.at(-1) ?? 0) > at ? [] : [p])).join(',')} unanswered ${timeoutMs} ms after the rebalance settled`);
      await sleep(50);
    }
  }

  async stop(): Promise<{ longestGapMs: number[]; steadyGapMs: number; failures: number }> {
    this.running = false;
    await this.done;
    const gaps = this.acks.map((list) => list.slice(1).map((t, i) => t - list[i]!));
    return {
      longestGapMs: gaps.map((list) => round(Math.max(0, ...list), 1)),
      steadyGapMs: round(median(gaps.flat()), 1),
      failures: this.failures.length,
    };
  }
}

/**
 * The same pause seen by the load itself, where it is dense enough to see it: per partition
 * with acknowledged load appends both before the change and after the group settled (when a
 * process leaves, its own partitions lose their load and are left out), the longest interval
 * between two of them, from every process's appends merged; and, as the steady reference, the
 * median over those partitions of the longest interval in the second before the change.
 */
function longestLoadGaps(reports: readonly WindowReport[], began: number, settledAt: number): { longestGapMs: Map<number, number>; steadyGapMs: number } {
  const ends = new Map<number, number[]>();
  for (const report of reports) {
    for (const [partition, list] of Object.entries(report.endsByPartition ?? {})) ends.set(Number(partition), [...(ends.get(Number(partition)) ?? []), ...list]);
  }
  const longestGapMs = new Map<number, number>();
  const longestBefore: number[] = [];
  for (const [partition, list] of [...ends].sort(([a], [b]) => a - b)) {
    list.sort((a, b) => a - b);
    if (!(list[0]! < began && list.at(-1)! > settledAt)) continue;
    const gaps = list.slice(1).map((t, i) => t - list[i]!);
    longestGapMs.set(partition, round(Math.max(...gaps), 1));
    // Acks come in batches (one commit answers many appends), so the steady reference is the
    // longest gap in the second before the change, not a typical one.
    longestBefore.push(Math.max(0, ...gaps.filter((_, i) => list[i + 1]! < began)));
  }
  return { longestGapMs, steadyGapMs: round(median(longestBefore), 1) };
}

/** Partition -> pid of the process that owns it, from each process's owned partitions. */
function ownersOf(writers: readonly BenchWriter[], owned: readonly number[][]): Map<number, number> {
  return new Map(owned.flatMap((partitions, i) => partitions.map((p): [number, number] => [p, writers[i]!.pid])));
}

/** Sums the writers' window reports: events/s and latencies over all processes. */
function loadFigures(reports: readonly WindowReport[], wallMs: number) {
  const acks = reports.reduce((sum, r) => sum + r.acks, 0);
  const transactions = reports.reduce((sum, r) => sum + r.transactions, 0);
  const latency = latencySummary(reports.flatMap((r) => r.latenciesMs));
  const failures: Record<string, number> = {};
  for (const r of reports) for (const [code, count] of Object.entries(r.failures)) failures[code] = (failures[code] ?? 0) + count;
  return { acks, eventsPerSec: perSecond(acks, wallMs), latency, transactions, appendsPerTransaction: round(acks / Math.max(1, transactions), 2), failures };
}

/** What one repetition's steps share: the options, the broker's pids, the figures so far. */
interface Run {
  readonly o: ScaleOutOptions;
  readonly context: BenchContext;
  readonly brokerPids: number[];
  readonly figures: Record<string, number>;
  readonly details: Record<string, unknown>;
}

/**
 * One step with `writers` settled: their idle CPU (load stopped), then the load restarted on
 * the current ownership, a warm-up, and the measurement window.
 */
async function measureStep(r: Run, writers: readonly BenchWriter[]): Promise<void> {
  const { o, brokerPids } = r;
  const n = writers.length;
  // The idle cost of N processes (their consumers' fetches, heartbeats): the load stopped.
  await Promise.all(writers.map((w) => w.halt()));
  const idleBefore = await cpuSnapshot(writers, brokerPids);
  await sleep(o.idleS * 1000);
  const idle = coresBetween(idleBefore, await cpuSnapshot(writers, brokerPids));

  const workers = Math.max(1, Math.round(o.concurrency / n));
  const streams = Math.ceil(o.streams / n);
  const driving = await Promise.all(writers.map((w) => w.drive(o.loadAt, workers, streams, o.eventSize, o.settleTimeoutMs)));
  await sleep(o.warmS * 1000);
  const before = await cpuSnapshot(writers, brokerPids);
  await sleep(o.measureS * 1000);
  const after = await cpuSnapshot(writers, brokerPids);
  const load = loadFigures(await Promise.all(writers.map((w) => w.window(before.at, after.at))), after.at - before.at);
  const cpu = coresBetween(before, after);
  const usPerEvent = (cores: number) => round((cores * cpu.wallS * 1e6) / Math.max(1, load.acks), 1);
  const key = `n${n}`;
  Object.assign(r.figures, {
    [`${key}.eventsPerSec`]: load.eventsPerSec,
    [`${key}.p50Ms`]: load.latency.p50Ms,
    [`${key}.p99Ms`]: load.latency.p99Ms,
    [`${key}.appendsPerTransaction`]: load.appendsPerTransaction,
    [`${key}.transactionsPerSec`]: perSecond(load.transactions, after.at - before.at),
    [`${key}.failures`]: Object.values(load.failures).reduce((sum, c) => sum + c, 0),
    [`${key}.cpu.writersCores`]: cpu.writers,
    [`${key}.cpu.busiestWriterCores`]: Math.max(...cpu.perWriter),
    [`${key}.cpu.brokerCores`]: cpu.broker,
    [`${key}.cpu.benchParentCores`]: cpu.parent,
    [`${key}.cpu.machineBusyCores`]: cpu.machineBusy,
    [`${key}.cpu.otherCores`]: cpu.other,
    // CPU per event, by role and for all of the benchmark's processes: does it stay flat as the load splits?
    [`${key}.cpu.writersUsPerEvent`]: usPerEvent(cpu.writers),
    [`${key}.cpu.brokerUsPerEvent`]: usPerEvent(cpu.broker),
    [`${key}.cpu.ownUsPerEvent`]: usPerEvent(cpu.writers + cpu.broker + cpu.parent),
    [`${key}.cpu.brokerUsPerTransaction`]: round((cpu.broker * cpu.wallS * 1e6) / Math.max(1, load.transactions), 1),
    [`${key}.idle.writersCores`]: idle.writers,
    [`${key}.idle.brokerCores`]: idle.broker,
    [`${key}.idle.machineBusyCores`]: idle.machineBusy,
  });
  const n1 = r.figures['n1.eventsPerSec'];
  if (n1 !== undefined && n1 > 0) r.figures[`${key}.overN1Ratio`] = round(load.eventsPerSec / n1, 3);
  r.details[key] = {
    processes: writers.map((w, i) => ({ pid: w.pid, partitions: driving[i]!.partitions, streams: driving[i]!.streams, workers, cores: cpu.perWriter[i] })),
    acks: load.acks,
    transactions: load.transactions,
    latency: load.latency,
    failures: load.failures,
    cpu,
    idleCpu: idle,
    brokerPids,
  };
  r.context.log(
    `${n} writer process(es): ${load.eventsPerSec} events/s, p50 ${load.latency.p50Ms} ms, p99 ${load.latency.p99Ms} ms, ${load.appendsPerTransaction} appends/txn; cores: writers ${cpu.writers} (${cpu.perWriter.join(' + ')}), broker ${cpu.broker}, bench ${cpu.parent}, machine busy ${cpu.machineBusy} (other work ${cpu.other}); idle: writers ${idle.writers}, broker ${idle.broker}, machine ${idle.machineBusy}`,
  );
}

/**
 * Adds or removes processes (`change`) while the load runs, with the probe on every partition:
 * per partition the longest interval without an acknowledged probe append, until the group has
 * settled on `writers` (as `change` leaves it) and every partition has answered again.
 */
async function measureTransition(r: Run, label: string, store: KafkaEventStore, writers: BenchWriter[], change: () => Promise<void>): Promise<void> {
  const { o, figures } = r;
  const probe = new Probe(store, `probe-${label}-${r.context.repetition}`, o.probeIntervalMs);
  await sleep(Math.max(500, 10 * o.probeIntervalMs)); // the probe's steady gaps, before the change
  const ownersBefore = ownersOf(writers, await Promise.all(writers.map((w) => w.owned())));
  const began = now();
  await change();
  const owned = await settled(writers, o.partitions, o.settleTimeoutMs);
  const ownersAfter = ownersOf(writers, owned);
  const settledAt = now();
  await probe.answeredAfter(settledAt, o.settleTimeoutMs);
  const ended = now();
  const gaps = await probe.stop();
  const load = loadFigures(await Promise.all(writers.map((w) => w.window(began, ended))), ended - began);
  const loadGaps = longestLoadGaps(await Promise.all(writers.map((w) => w.window(began - 1000, ended, true))), began, settledAt);
  const pauses = [...gaps.longestGapMs].sort((a, b) => a - b);
  // Moved: another process owns the partition afterwards. The eager protocol restarts the
  // writers of the others too, so both kinds pause; the split shows by how much.
  const moved = gaps.longestGapMs.filter((_, p) => ownersBefore.get(p) !== ownersAfter.get(p));
  const kept = gaps.longestGapMs.filter((_, p) => ownersBefore.get(p) === ownersAfter.get(p));
  figures[`${label}.settleMs`] = round(settledAt - began, 1);
  figures[`${label}.pauseMedianMs`] = round(median(pauses), 1);
  figures[`${label}.pauseMaxMs`] = pauses.at(-1)!;
  figures[`${label}.movedPartitions`] = moved.length;
  if (moved.length > 0) figures[`${label}.pauseMovedMedianMs`] = round(median(moved), 1);
  if (kept.length > 0) figures[`${label}.pauseKeptMedianMs`] = round(median(kept), 1);
  figures[`${label}.probeSteadyGapMs`] = gaps.steadyGapMs;
  figures[`${label}.probeFailures`] = gaps.failures;
  figures[`${label}.loadMaxLatencyMs`] = load.latency.maxMs;
  if (loadGaps.longestGapMs.size > 0) {
    figures[`${label}.loadGapMedianMs`] = round(median([...loadGaps.longestGapMs.values()]), 1);
    figures[`${label}.loadGapMaxMs`] = round(Math.max(...loadGaps.longestGapMs.values()), 1);
    figures[`${label}.loadSteadyGapMs`] = loadGaps.steadyGapMs;
  }
  r.details[label] = { ownersBefore: [...ownersBefore], owned, probeLongestGapMsByPartition: gaps.longestGapMs, loadLongestGapMsByPartition: Object.fromEntries(loadGaps.longestGapMs), load };
  r.context.log(
    `${label}: group settled in ${figures[`${label}.settleMs`]} ms; longest probe gap per partition: median ${figures[`${label}.pauseMedianMs`]} ms (${moved.length} moved: ${figures[`${label}.pauseMovedMedianMs`] ?? '-'} ms, ${kept.length} kept: ${figures[`${label}.pauseKeptMedianMs`] ?? '-'} ms), max ${figures[`${label}.pauseMaxMs`]} ms (steady gap ${gaps.steadyGapMs} ms, ${gaps.failures} probe failures); load: longest gap per partition median ${figures[`${label}.loadGapMedianMs`] ?? '-'} ms, max ${figures[`${label}.loadGapMaxMs`] ?? '-'} ms (steady ${loadGaps.steadyGapMs} ms, ${loadGaps.longestGapMs.size} partitions), max latency ${load.latency.maxMs} ms, failures ${JSON.stringify(load.failures)}`,
  );
}

async function run(o: ScaleOutOptions, context: BenchContext): Promise<RepetitionResult> {
  const r: Run = { o, context, brokerPids: localBrokerPids(context.brokers), figures: {}, details: {} };
  if (r.brokerPids.length === 0) context.log('the broker is not a local cluster of this checkout: its CPU is not measured');

  // The bench process's own store (writer: false) creates the topics, runs the probe, and removes the topics at the end.
  await withFreshStore(context.brokers, { prefix: 'bench-scale', partitions: o.partitions, replicationFactor: o.replicationFactor, writer: false, log: context.log }, async ({ store, name }) => {
    const writers: BenchWriter[] = [];
    const dataDirs: string[] = [];
    const addWriter = async (): Promise<void> => {
      const number = dataDirs.length + 1;
      const dataDir = benchDataDir();
      dataDirs.push(dataDir);
      const options = { brokers: context.brokers, store: name, partitions: o.partitions, replicationFactor: o.replicationFactor, writer: true, dataDir, clientId: `bench-${name}-w${number}` };
      writers.push(await BenchWriter.start(`writer ${number}`, options));
    };
    try {
      for (const n of o.processes) {
        const from = writers.length;
        const join = () => Promise.all(Array.from({ length: n - from }, addWriter)).then(() => undefined);
        if (from === 0) {
          await join();
          await settled(writers, o.partitions, o.settleTimeoutMs);
        } else {
          await measureTransition(r, `add${from}to${n}`, store, writers, join);
        }
        await measureStep(r, writers);
      }
      if (writers.length > 1) {
        const last = writers.length;
        await measureTransition(r, `remove${last}to${last - 1}`, store, writers, () => writers.pop()!.close());
      }
    } finally {
      await Promise.all(writers.map((w) => w.close()));
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    }
  });
  return { figures: r.figures, details: r.details };
}

export const scaleOut: Scenario<ScaleOutOptions> = {
  name: 'scale-out',
  description: 'writer processes 1, 2, 4 on one 12-partition store, each appending uncontended to the streams it owns: events/s per step, CPU per process, pause when a process joins or leaves',

  defineOptions(command: Command) {
    command
      .option('--processes <list>', 'writer processes at each measured step, ascending (processes join between steps)', '1,2,4')
      .option('--partitions <n>', 'partitions of the fresh store', '12')
      .option('--replication-factor <n>', 'replication factor of the fresh store', '1')
      .option('--event-size <bytes>', "size of each event's encoded (JSON) data", '256')
      .option('--concurrency <n>', 'appends in flight in all, split evenly over the processes', '64')
      .option('--streams <n>', 'streams in all, split evenly over the processes', '1000')
      .option('--load-at <target>', "'owned': each process appends to streams of the partitions it owns (fast path); 'all': to streams of every partition (most go through <store>.appends)", 'owned')
      .option('--measure <s>', 'seconds of each measurement window', '15')
      .option('--idle <s>', 'seconds of CPU measurement with the processes connected but no load, at each step', '3')
      .option('--warm <s>', 'seconds of load after each (re)start before the window opens', '2')
      .option('--probe-interval-ms <n>', 'pause between two probe appends to one partition during a join or leave', '20')
      .option('--settle-timeout-ms <n>', 'give up waiting for the writer group to settle after this long', '90000');
  },

  parseOptions(raw) {
    const loadAt = String(raw.loadAt);
    if (loadAt !== 'owned' && loadAt !== 'all') throw new Error(`--load-at must be 'owned' or 'all', not "${loadAt}"`);
    const o: ScaleOutOptions = {
      processes: positiveIntegers('processes', raw.processes),
      partitions: positiveInteger('partitions', raw.partitions),
      replicationFactor: positiveInteger('replication-factor', raw.replicationFactor),
      eventSize: positiveInteger('event-size', raw.eventSize),
      concurrency: positiveInteger('concurrency', raw.concurrency),
      streams: positiveInteger('streams', raw.streams),
      loadAt,
      measureS: positiveInteger('measure', raw.measure),
      idleS: positiveInteger('idle', raw.idle),
      warmS: positiveInteger('warm', raw.warm),
      probeIntervalMs: positiveInteger('probe-interval-ms', raw.probeIntervalMs),
      settleTimeoutMs: positiveInteger('settle-timeout-ms', raw.settleTimeoutMs),
    };
    if (o.processes.some((n, i) => i > 0 && n <= o.processes[i - 1]!)) throw new Error('--processes must be ascending: processes join between steps');
    if (Math.max(...o.processes) > o.partitions) throw new Error(`--processes: at most --partitions (${o.partitions}); a process beyond it would own nothing`);
    if (o.streams < o.concurrency) throw new Error('--streams must be at least --concurrency: each append in flight has its own stream');
    return o;
  },

  run,

  notes(o) {
    const steps = o.processes.map((n) => `${n} (${Math.max(1, Math.round(o.concurrency / n))} in flight each)`).join(', ');
    return [
      `A fresh ${o.partitions}-partition store (RF ${o.replicationFactor}). Writer processes (bench/writer-process.ts, each a separate OS process with its own EventStore, writer: true, own local index under .scribe/bench/) join its writer group one step after another: ${steps}. Before each step is measured the group must have settled (every process reports its ownedPartitions over IPC; together they own every partition, each at least one, none twice).`,
      o.loadAt === 'owned'
        ? `Where the load comes from: each writer process generates it for the partitions it owns, so every append takes the fast path. This measures what the issue asks, whether the owners' capacity grows with their number: a single non-writer load generator would send every append through <store>.appends, and its own cost (a produce, a reply to consume, per append, all in one Node process) would be the ceiling whatever the number of owners; load spread over all streams from each process would mix the owners' capacity with the remote path's cost, which grows with the share of remote appends ((N-1)/N). --load-at all measures that case.`
        : `Where the load comes from: each writer process appends to streams of every partition, as a client that does not know the owners would; with N processes, (N-1)/N of the appends go through <store>.appends to their owner. This mixes the owners' capacity with the remote path's cost. appendsPerTransaction is a lower bound here: each process sees only its own appends' offsets, so another process's append in the same transaction looks like a gap and the transactions are overcounted.`,
      `Load: ${o.concurrency} appends in flight in all, split evenly over the processes, over ${o.streams} new streams in all; worker w of c in a process appends to its streams w, w+c, ... in turn with the exact expected version (as append-uncontended), one ${o.eventSize}-byte event per append. After each join the load restarts on fresh streams of the new ownership; ${o.warmS} s of load, then a ${o.measureS} s window. Events/s: appends acknowledged in the window (summed over the processes) / window; latency from append() to its result. appendsPerTransaction from the appends' positions (store-fixture's transactionsFromOffsets).`,
      `Idle cost: at each step, before the load starts, ${o.idleS} s with the processes connected and no appends (their consumers keep fetching and heartbeating): idle.* cores.`,
      'CPU in cores (CPU seconds per wall second) over the window: each writer process from process.cpuUsage() reported over IPC; the broker JVM and the whole machine from /proc (/proc/<pid>/stat, /proc/stat); "other" is the machine minus these processes and the bench process (others\' work on the shared machine).',
      `Pause on a join or a leave, under load: while processes are added (between steps) and when the last one leaves at the end (close(): it leaves the group), the bench process's own store (writer: false) keeps one probe append in flight per partition (${o.probeIntervalMs} ms apart), which goes through <store>.appends to the current owner. Per partition, the longest interval between two acknowledged probe appends from shortly before the change until every partition has answered after the group settled; pauseMedianMs and pauseMaxMs over the partitions, next to the probe's steady gap (interval plus one remote append). The same from the load itself (loadGap*): per partition that had load appends before the change and after the group settled, the longest interval between two acknowledged ones (all processes' merged), next to the longest such interval in the second before the change (loadSteadyGapMs, median over the partitions); the load keeps its streams through the change, so appends to a partition that moves go to its new owner through <store>.appends. When a process leaves, its own load stops, so its partitions count only in the probe's figures. settleMs: from the start of the change (for a join, the fork: it includes the new process's start and connect) until the group has settled. The writer group uses the eager rebalance protocol: every writer is stopped and restarted at every rebalance, so kept partitions pause too (pauseKeptMedianMs).`,
      'Steps run in one order (1 then 2 then 4 processes) on one store per repetition: the later steps meet a partition history that is a few tens of thousands of events longer.',
      'Figures are comparable only within one run; the machine (2 cores) is shared, see cpu.otherCores.',
    ];
  },

  summarize(medians, o) {
    const show = medianFormatter(medians);
    const lines = o.processes.map(
      (n) =>
        `  ${n} process(es): ${show(`n${n}.eventsPerSec`, ' events/s')} (x${show(`n${n}.overN1Ratio`)} of 1), p50 ${show(`n${n}.p50Ms`, ' ms')}, p99 ${show(`n${n}.p99Ms`, ' ms')}, ${show(`n${n}.appendsPerTransaction`)} appends/txn; ` +
        `cores: writers ${show(`n${n}.cpu.writersCores`)} (busiest ${show(`n${n}.cpu.busiestWriterCores`)}), broker ${show(`n${n}.cpu.brokerCores`)}, bench ${show(`n${n}.cpu.benchParentCores`)}, machine ${show(`n${n}.cpu.machineBusyCores`)} (other ${show(`n${n}.cpu.otherCores`)}); ` +
        `µs/event writers ${show(`n${n}.cpu.writersUsPerEvent`)}, broker ${show(`n${n}.cpu.brokerUsPerEvent`)}; idle cores: writers ${show(`n${n}.idle.writersCores`)}, broker ${show(`n${n}.idle.brokerCores`)}`,
    );
    const labels = [...new Set(Object.keys(medians).filter((k) => /^(add|remove)\d+to\d+\./.test(k)).map((k) => k.split('.')[0]!))];
    for (const label of labels) {
      lines.push(
        `  ${label}: settled in ${show(`${label}.settleMs`, ' ms')}; longest probe gap per partition: median ${show(`${label}.pauseMedianMs`, ' ms')} (moved ${show(`${label}.pauseMovedMedianMs`, ' ms')}, kept ${show(`${label}.pauseKeptMedianMs`, ' ms')}), max ${show(`${label}.pauseMaxMs`, ' ms')} (steady ${show(`${label}.probeSteadyGapMs`, ' ms')}); load: longest gap per partition median ${show(`${label}.loadGapMedianMs`, ' ms')}, max ${show(`${label}.loadGapMaxMs`, ' ms')} (steady ${show(`${label}.loadSteadyGapMs`, ' ms')}), max latency ${show(`${label}.loadMaxLatencyMs`, ' ms')}`,
      );
    }
    return lines;
  },
};
