// concurrent-writers: N writers append one 256-byte event at a time to streams chosen
// uniformly at random among 10,000, each with the stream's exact expected version (a writer
// never picks a stream another writer is appending to, so nothing conflicts). Scribe and
// Emmett are measured this way; the raw producer sends the same values, idempotent with N
// sends in flight, and transactional (raw-produce's reference, committing every 100 and 1,000).
import { performance } from 'node:perf_hooks';
import { STREAM_DOES_NOT_EXIST, type ExpectedStreamVersion } from '@event-driven-io/emmett';
import type { KafkaEventStore } from '../../src/index.js';
import { measureRawIdempotent, measureRawTransactional } from '../scenarios/raw-produce.js';
import { cpuSample, cpuSince, type CpuUse } from '../cpu.js';
import { latencySummary, perSecond } from '../stats.js';
import { withFreshStore } from '../store-fixture.js';
import { checkStreams } from './self-check.js';
import { emptyResult, eventData, measureInTurn, record, type WorkloadContext, type WorkloadResult } from './workload.js';

export interface ConcurrentWritersOptions {
  readonly streams: number;
  readonly writers: number[];
  /** Appends (one event each) per level. */
  readonly appends: number;
  readonly eventSize: number;
  readonly partitions: number;
  /** Raw transactional reference: commit every N records, one measurement per N. */
  readonly commitEvery: number[];
  readonly rawTransactions: number;
  readonly caseTimeoutMs: number;
}

const eventType = 'BenchAppended';

interface Level {
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
  readonly cpu: CpuUse;
}

/**
 * `writers` writers, each looping: pick a stream at random (again while another writer is on
 * it), append one event to it, until `total` appends are done.
 */
async function driveWriters(brokers: readonly string[], total: number, writers: number, streams: number, append: (stream: number) => Promise<void>): Promise<Level> {
  const busy = new Uint8Array(streams);
  const latenciesMs: number[] = [];
  let issued = 0;
  const writer = async () => {
    while (issued < total) {
      issued++;
      let s = Math.floor(Math.random() * streams);
      while (busy[s] === 1) s = Math.floor(Math.random() * streams);
      busy[s] = 1;
      const began = performance.now();
      try {
        await append(s);
      } finally {
        busy[s] = 0;
      }
      latenciesMs.push(performance.now() - began);
    }
  };
  const started = performance.now();
  const cpu = cpuSample(brokers);
  await Promise.all(Array.from({ length: writers }, () => writer()));
  return { elapsedMs: performance.now() - started, latenciesMs, cpu: cpuSince(cpu) };
}

function levelFigures(level: Level, appends: number) {
  const latency = latencySummary(level.latenciesMs);
  return { eventsPerSec: perSecond(appends, level.elapsedMs), p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms, ...level.cpu };
}

async function measureScribe(o: ConcurrentWritersOptions, context: WorkloadContext, result: WorkloadResult): Promise<void> {
  await withFreshStore(context.brokers, { prefix: 'bench-cmp-cw', partitions: o.partitions, replicationFactor: 1, writer: true, log: context.log }, async ({ store }) => {
    const data = eventData(o.eventSize);
    const streamId = (s: number) => `cw-${s}`;
    const versions = new Int32Array(o.streams).fill(-1);
    const acknowledged = new Map<string, number>();
    const appendTo = async (s: number) => {
      const appended = await store.append(streamId(s), [{ type: eventType, data }], { expectedVersion: versions[s]! });
      versions[s] = appended.nextExpectedVersion;
      acknowledged.set(streamId(s), (acknowledged.get(streamId(s)) ?? 0) + 1);
    };
    await primePartitions(store, o.streams, streamId, appendTo);
    for (const writers of o.writers) {
      const level = await driveWriters(context.brokers, o.appends, writers, o.streams, appendTo);
      const figures = levelFigures(level, o.appends);
      record(result, 'concurrent-writers', `w${writers}`, 'scribe', figures);
      context.log(`concurrent-writers, ${writers} writers, scribe: ${figures.eventsPerSec} events/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms`);
    }
    result.selfChecks.push(
      await checkStreams('scribe', 'concurrent-writers', acknowledged, 0, async (id) => {
        const positions: number[] = [];
        for await (const event of store.readStream(id)) positions.push(event.version);
        return positions;
      }),
    );
  });
}

/** Every partition's writer commits one append before the clock starts, as in append-uncontended. */
async function primePartitions(store: KafkaEventStore, streams: number, streamId: (s: number) => string, appendTo: (s: number) => Promise<void>): Promise<void> {
  const firsts = new Map<number, number>();
  for (let s = 0; s < streams && firsts.size < store.partitions; s++) {
    const partition = store.partitionOf(streamId(s));
    if (!firsts.has(partition)) firsts.set(partition, s);
  }
  await Promise.all([...firsts.values()].map(appendTo));
}

async function measureEmmett(o: ConcurrentWritersOptions, context: WorkloadContext, result: WorkloadResult): Promise<void> {
  const { store } = context.emmett!;
  const data = eventData(o.eventSize);
  const streamId = (s: number) => `cw-${context.tag}-${s}`;
  const versions = new Array<bigint | undefined>(o.streams).fill(undefined);
  const acknowledged = new Map<string, number>();
  const appendTo = async (s: number) => {
    const expected: ExpectedStreamVersion = versions[s] ?? STREAM_DOES_NOT_EXIST;
    const appended = await store.appendToStream(streamId(s), [{ type: eventType, data }], { expectedStreamVersion: expected });
    versions[s] = appended.nextExpectedStreamVersion;
    acknowledged.set(streamId(s), (acknowledged.get(streamId(s)) ?? 0) + 1);
  };
  for (const writers of o.writers) {
    const level = await driveWriters(context.brokers, o.appends, writers, o.streams, appendTo);
    const figures = levelFigures(level, o.appends);
    record(result, 'concurrent-writers', `w${writers}`, 'emmett', figures);
    context.log(`concurrent-writers, ${writers} writers, emmett: ${figures.eventsPerSec} events/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms`);
  }
  result.selfChecks.push(
    await checkStreams('emmett', 'concurrent-writers', acknowledged, 1, async (id) => {
      const read = await store.readStream(id);
      return read.events.map((event) => Number(event.metadata.streamPosition));
    }),
  );
}

async function measureRaw(o: ConcurrentWritersOptions, context: WorkloadContext, result: WorkloadResult): Promise<void> {
  for (const writers of o.writers) {
    const measured = await measureRawIdempotent(context.brokers, { partitions: o.partitions, replicationFactor: 1, recordSize: o.eventSize, records: o.appends, window: writers, caseTimeoutMs: o.caseTimeoutMs });
    const f = measured.figures;
    record(result, 'concurrent-writers', `w${writers}`, 'raw-idempotent', { eventsPerSec: f.recordsPerSec!, p50Ms: f.p50Ms!, p95Ms: f.p95Ms!, p99Ms: f.p99Ms! });
    context.log(`concurrent-writers, ${writers} in flight, raw idempotent: ${f.recordsPerSec} records/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms`);
  }
  for (const n of o.commitEvery) {
    const measured = await measureRawTransactional(context.brokers, { partitions: o.partitions, replicationFactor: 1, recordSize: o.eventSize, transactions: o.rawTransactions, caseTimeoutMs: o.caseTimeoutMs }, n);
    const f = measured.figures;
    // Latency here is the transaction's: begin, N records, commit acknowledged.
    record(result, 'concurrent-writers', 'txn', `raw-txn-${n}`, { eventsPerSec: f.recordsPerSec!, p50Ms: f.transactionP50Ms!, p95Ms: f.transactionP95Ms!, p99Ms: f.transactionP99Ms! });
    context.log(`concurrent-writers, raw transactional commit/${n}: ${f.recordsPerSec} records/s, transaction p50 ${f.transactionP50Ms} ms`);
  }
}

export async function concurrentWriters(o: ConcurrentWritersOptions, context: WorkloadContext): Promise<WorkloadResult> {
  const result = emptyResult();
  const measurements = [
    { system: 'scribe', run: () => measureScribe(o, context, result) },
    { system: 'raw', run: () => measureRaw(o, context, result) },
    { system: 'emmett', run: () => measureEmmett(o, context, result) },
  ] as const;
  await measureInTurn(measurements, context);
  return result;
}
