// One chaos run: a 3-broker cluster, writer and client processes under a seeded fault schedule,
// then the independent read-back, the checker's anomalies and availability, as one result.
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalKafkaCluster } from '../src/local-kafka/index.js';
import { partitionForKey } from '../src/index.js';
import { availability, type AppliedFault, type Availability } from './availability.js';
import { checkHistory, type Anomaly } from './checker.js';
import { applyFault } from './faults.js';
import { readHistoryDir } from './history.js';
import { readEvents } from './log-reader.js';
import { Workers } from './processes.js';
import { planFaults, type PlannedFault } from './schedule.js';

export interface ChaosOptions {
  readonly mode: 'ci' | 'long';
  readonly seed: number;
  /** Long mode: how long faults go on. */
  readonly durationS?: number;
  readonly writers: number;
  readonly clients: number;
  readonly streams: number;
  readonly out: string;
  /** A running 3-node cluster to use; else the run starts (and stops) one named `chaos`. */
  readonly cluster?: LocalKafkaCluster;
  readonly log?: (line: string) => void;
  /** Keep only these fault kinds of the schedule (replaying one fault). */
  readonly only?: readonly string[];
}

export interface ChaosResult {
  readonly mode: 'ci' | 'long';
  readonly seed: number;
  readonly store: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly planned: readonly PlannedFault[];
  readonly faults: readonly AppliedFault[];
  readonly operations: Record<string, number>;
  readonly eventsRead: number;
  readonly anomalies: readonly Anomaly[];
  readonly availability: Availability;
  /** No anomaly, every process recovered after the faults, every process closed and exited. */
  readonly ok: boolean;
  readonly verdict: string;
}

export const sessionTimeoutMs = 6_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const historyDir = join(options.out, 'history');
  mkdirSync(historyDir, { recursive: true });
  const ownCluster = options.cluster === undefined;
  log(`chaos: mode ${options.mode}, seed ${options.seed}, ${options.writers} writers, ${options.clients} clients, ${options.streams} streams`);
  const cluster = options.cluster ?? (await LocalKafkaCluster.start({ nodes: 3, name: 'chaos', log: (line) => log(`[kafka] ${line}`) }));
  const store = `chaos-${options.seed}-${randomUUID().slice(0, 6)}`;
  const partitions = 6;
  const streams = Array.from({ length: options.streams }, (_, i) => (i === 0 ? 'hot' : `s-${i}`));
  const hotPartition = partitionForKey('hot', partitions);
  const workers = new Workers({
    brokers: cluster.brokers,
    store,
    partitions,
    out: historyDir,
    streams,
    commandStreams: ['cmd-0', 'cmd-1', 'cmd-2'],
    loops: 3,
    pauseMs: 40,
    seed: options.seed,
    sessionTimeoutMs,
    transactionTimeoutMs: 10_000,
    appendTimeoutMs: 15_000,
  });
  const startedAt = new Date();
  const faults: AppliedFault[] = [];
  const planned = planFaults({ mode: options.mode, seed: options.seed, ...(options.durationS !== undefined ? { durationS: options.durationS } : {}) }).filter(
    (f) => options.only === undefined || options.only.includes(f.kind),
  );
  try {
    for (let i = 0; i < options.writers; i++) await workers.start('writer');
    for (let i = 0; i < options.clients; i++) await workers.start('client');
    const runStartT = Date.now();
    log(`chaos: store ${store}, hot stream in partition ${hotPartition}; ${workers.live().length} processes running`);
    await sleep(5_000);
    const deadline = options.mode === 'long' ? runStartT + (options.durationS ?? 1_800) * 1_000 : Infinity;
    for (const fault of planned) {
      if (Date.now() + fault.waitMs >= deadline) break;
      await sleep(fault.waitMs);
      log(`chaos: ${fault.kind} (hold ${fault.holdMs} ms)...`);
      const applied = await applyFault({ cluster, workers, store, hotPartition, log }, fault);
      faults.push(applied);
      appendFileSync(join(options.out, 'faults.jsonl'), JSON.stringify(applied) + '\n');
      log(`chaos: ${applied.kind} on ${applied.target}: healed after ${((applied.healedT - applied.startT) / 1000).toFixed(1)} s`);
    }
    const faultsEndT = Date.now();
    // Every process must acknowledge writes again once the faults are over.
    log('chaos: faults over; 20 s of quiet for recovery');
    await sleep(20_000);
    const stopT = Date.now();
    await workers.stopAll(60_000);
    const runEndT = stopT;
    log(`chaos: processes stopped (${workers.ends().filter((e) => e.end === 'wedged').length} wedged); reading ${store}.events back with KafkaJS`);
    const events = await readEvents(cluster.brokers, `${store}.events`);
    const history = readHistoryDir(historyDir);
    const anomalies = checkHistory(history, events);
    const figures = availability({ history, faults, ends: workers.ends(), runStartT, faultsEndT, runEndT });
    const operations: Record<string, number> = {};
    for (const op of history.ops) operations[`${op.op} ${op.outcome}`] = (operations[`${op.op} ${op.outcome}`] ?? 0) + 1;
    const ok = anomalies.length === 0 && figures.notRecovered.length === 0 && figures.wedged.length === 0;
    const verdict = ok
      ? `PASS: no anomaly; every process recovered, closed and exited`
      : `FAIL: ${anomalies.length} anomalies${anomalies.length ? ` (${[...new Set(anomalies.map((a) => a.name))].join(', ')})` : ''}; not recovered: ${figures.notRecovered.join(', ') || 'none'}; wedged: ${
          figures.wedged.map((w) => `${w} (${figures.closeMs[w] !== undefined ? `closed in ${figures.closeMs[w]} ms, then did not exit` : 'close() did not return'})`).join(', ') || 'none'
        }`;
    const result: ChaosResult = {
      mode: options.mode,
      seed: options.seed,
      store,
      startedAt: startedAt.toISOString(),
      durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
      planned,
      faults,
      operations,
      eventsRead: events.length,
      anomalies,
      availability: figures,
      ok,
      verdict,
    };
    writeFileSync(join(options.out, 'result.json'), JSON.stringify(result, null, 2));
    return result;
  } finally {
    workers.killAll();
    if (ownCluster) await cluster.stop();
  }
}

/** A short human summary of a result. */
export function summary(result: ChaosResult): string {
  const lines = [`seed ${result.seed} (${result.mode}), ${result.durationS} s, store ${result.store}`];
  lines.push(`operations: ${Object.entries(result.operations).map(([k, v]) => `${k} ${v}`).join(', ')}; ${result.eventsRead} events read back`);
  for (const s of result.availability.stalls) {
    lines.push(`  ${s.kind.padEnd(26)} ${s.target}: held ${(s.heldMs / 1000).toFixed(1)} s, longest stall ${(s.stallMs / 1000).toFixed(1)} s${s.stalledProcess ? ` (${s.stalledProcess})` : ''}, first ok after ${s.firstOkMs !== undefined ? (s.firstOkMs / 1000).toFixed(1) + ' s' : 'never'}`);
  }
  const rate = result.availability.okPerSecond;
  lines.push(`acknowledged writes/s: mean ${(rate.reduce((a, b) => a + b, 0) / Math.max(1, rate.length)).toFixed(1)}, seconds with none: ${rate.filter((r) => r === 0).length} of ${rate.length}`);
  lines.push(`close times (ms): ${Object.entries(result.availability.closeMs).map(([p, ms]) => `${p} ${ms}`).join(', ')}`);
  for (const a of result.anomalies.slice(0, 20)) lines.push(`  ANOMALY ${a.name}${a.stream ? ` on ${a.stream}` : ''}: ${a.detail}${a.ops ? ` [${a.ops.join(' ')}]` : ''}`);
  if (result.anomalies.length > 20) lines.push(`  ... and ${result.anomalies.length - 20} more (result.json)`);
  lines.push(result.verdict);
  return lines.join('\n');
}
