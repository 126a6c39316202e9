// read-stream: reading one stream of 1,000 events whole, and loading the state of an aggregate
// of 100,000 events. Scribe loads from its latest snapshot (the bank account decider with a
// snapshot on every command, as load-aggregate writes it); Emmett offers no snapshots, so its
// aggregateStream folds every event, which is what a user of it gets.
import { performance } from 'node:perf_hooks';
import { STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import type { PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import { account, type AccountEvent } from '../../examples/bank-account.js';
import type { EventStore } from '../../src/index.js';
import { withSnapshots, writeStream } from '../scenarios/load-aggregate.js';
import { latencySummary, median, perSecond } from '../stats.js';
import { randomSuffix, withFreshStore } from '../store-fixture.js';
import { checkHistory, checkStreams, type FirstPosition } from './self-check.js';
import { emptyResult, eventData, measureInTurn, record, type WorkloadContext, type WorkloadResult } from './workload.js';

export interface ReadStreamOptions {
  /** Events of the stream that is read whole. */
  readonly events: number;
  /** Events of the aggregate that is loaded. */
  readonly aggregateEvents: number;
  /** Timed reads and loads per measurement (fewer loads when every event is folded, see `loadsFolding`). */
  readonly reads: number;
  readonly eventSize: number;
  readonly partitions: number;
}

const eventType = 'BenchRead';
/** Events per append when writing the streams. */
const chunk = 1_000;

/** Loads that fold every event are capped at about 300,000 events folded per measurement. */
function loadsFolding(o: ReadStreamOptions): number {
  return Math.max(3, Math.min(o.reads, Math.ceil(300_000 / o.aggregateEvents)));
}

/** Times `times` calls of `read`, which returns the positions it read; each read is checked. */
async function timeReads(label: string, times: number, events: number, first: FirstPosition, read: () => Promise<number[]>) {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const began = performance.now();
    const positions = await read();
    durations.push(performance.now() - began);
    checkHistory(label, positions, events, first);
  }
  const latency = latencySummary(durations);
  return { eventsPerSec: perSecond(events, median(durations)), p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms };
}

async function timeLoads(times: number, load: () => Promise<void>) {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const began = performance.now();
    await load();
    durations.push(performance.now() - began);
  }
  const latency = latencySummary(durations);
  return { loadsPerSec: perSecond(1, median(durations)), p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, p99Ms: latency.p99Ms };
}

async function scribePositions(store: EventStore, streamId: string): Promise<number[]> {
  const positions: number[] = [];
  for await (const event of store.readStream(streamId)) positions.push(event.version);
  return positions;
}

async function measureScribe(o: ReadStreamOptions, context: WorkloadContext, result: WorkloadResult): Promise<void> {
  await withFreshStore(context.brokers, { prefix: 'bench-cmp-read', partitions: o.partitions, replicationFactor: 1, writer: true, log: context.log }, async ({ store }) => {
    const readId = `read-${randomSuffix()}`;
    const data = eventData(o.eventSize);
    for (let written = 0; written < o.events; written += chunk) {
      const n = Math.min(chunk, o.events - written);
      await store.append(readId, Array.from({ length: n }, () => ({ type: eventType, data })), { expectedVersion: written === 0 ? 'no_stream' : written - 1 });
    }
    const reads = await timeReads(`scribe read-stream ${readId}`, o.reads, o.events, 0, () => scribePositions(store, readId));
    record(result, 'read-stream', `read-${o.events}`, 'scribe', reads);

    const aggregateId = `account-${randomSuffix()}`;
    await writeStream(store, aggregateId, o.aggregateEvents, Math.min(50, o.aggregateEvents - 2));
    const version = o.aggregateEvents - 1;
    const loads = await timeLoads(o.reads, async () => {
      const loaded = await store.load(withSnapshots, aggregateId);
      if (loaded.version !== version || loaded.state.balance !== version) throw new Error(`scribe ${aggregateId}: loaded version ${loaded.version}, balance ${loaded.state.balance}; expected ${version}`);
    });
    record(result, 'read-stream', `load-${o.aggregateEvents}`, 'scribe-snapshot', loads);
    context.log(`read-stream, scribe: read ${o.events} events p50 ${reads.p50Ms} ms; load of ${o.aggregateEvents} with a snapshot p50 ${loads.p50Ms} ms`);

    result.selfChecks.push(await checkStreams('scribe', 'read-stream', new Map([[readId, o.events], [aggregateId, o.aggregateEvents]]), 0, (id) => scribePositions(store, id)));
  });
}

async function emmettPositions(store: PostgresEventStore, streamId: string): Promise<number[]> {
  const read = await store.readStream(streamId);
  return read.events.map((event) => Number(event.metadata.streamPosition));
}

/** Appends `count` events made by `event(i)` to a new stream, `chunk` per append. */
async function writeEmmettStream(store: PostgresEventStore, streamId: string, count: number, event: (i: number) => AccountEvent | { type: string; data: { p: string } }): Promise<void> {
  let version: bigint | undefined;
  for (let written = 0; written < count; written += chunk) {
    const events = Array.from({ length: Math.min(chunk, count - written) }, (_, k) => event(written + k));
    const appended = await store.appendToStream(streamId, events, { expectedStreamVersion: version ?? STREAM_DOES_NOT_EXIST });
    version = appended.nextExpectedStreamVersion;
  }
}

async function measureEmmett(o: ReadStreamOptions, context: WorkloadContext, result: WorkloadResult): Promise<void> {
  const { store } = context.emmett!;
  const readId = `read-${context.tag}`;
  const data = eventData(o.eventSize);
  await writeEmmettStream(store, readId, o.events, () => ({ type: eventType, data }));
  const reads = await timeReads(`emmett read-stream ${readId}`, o.reads, o.events, 1, () => emmettPositions(store, readId));
  record(result, 'read-stream', `read-${o.events}`, 'emmett', reads);

  const aggregateId = `account-${context.tag}`;
  const began = performance.now();
  await writeEmmettStream(store, aggregateId, o.aggregateEvents, (i) => (i === 0 ? { type: 'Opened', data: { owner: 'bench' } } : { type: 'Deposited', data: { amount: 1 } }));
  result.details.emmettAggregateWriteMs = Math.round(performance.now() - began);
  const deposits = o.aggregateEvents - 1;
  const loads = await timeLoads(loadsFolding(o), async () => {
    const loaded = await store.aggregateStream<ReturnType<typeof account.initialState>, AccountEvent>(aggregateId, { evolve: account.evolve, initialState: account.initialState });
    if (loaded.currentStreamVersion !== BigInt(o.aggregateEvents) || loaded.state.balance !== deposits) {
      throw new Error(`emmett ${aggregateId}: loaded version ${loaded.currentStreamVersion}, balance ${loaded.state.balance}; expected ${o.aggregateEvents}, ${deposits}`);
    }
  });
  record(result, 'read-stream', `load-${o.aggregateEvents}`, 'emmett-fold', loads);
  context.log(`read-stream, emmett: read ${o.events} events p50 ${reads.p50Ms} ms; load of ${o.aggregateEvents} (every event folded) p50 ${loads.p50Ms} ms`);

  result.selfChecks.push(await checkStreams('emmett', 'read-stream', new Map([[readId, o.events], [aggregateId, o.aggregateEvents]]), 1, (id) => emmettPositions(store, id)));
}

export async function readStream(o: ReadStreamOptions, context: WorkloadContext): Promise<WorkloadResult> {
  const result = emptyResult();
  const measurements = [
    { system: 'scribe', run: () => measureScribe(o, context, result) },
    { system: 'emmett', run: () => measureEmmett(o, context, result) },
  ] as const;
  await measureInTurn(measurements, context);
  result.details.emmettLoadsFoldingEveryEvent = loadsFolding(o);
  return result;
}
