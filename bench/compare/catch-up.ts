// catch-up: a subscriber reading 1,000,000 stored events from the start. The events are
// written once per run (they are only read): into a Scribe store by a raw transactional
// producer in Scribe's record format (read-stream's `fill`, as the partitions' owners would),
// and into a database of Emmett's of their own. Each repetition then reads them all with a new
// reader: Scribe's `subscribe({ from: 'start' })` on a store connected as a reader, the raw
// consumer of the same client reading the same records (read_committed, the same batch size
// as Scribe's subscription), Emmett's reader of its global log (the batch puller under its
// consumer), and, on a prefix of the log, Emmett's consumer with a checkpointing reactor.
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import { postgreSQLEventStoreMessageBatchPuller, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import { EventStore } from '../../src/index.js';
import { KafkaAdmin, KafkaConsumer } from '../../src/kafka/index.js';
import { ensureTopics, topicNames } from '../../src/store/topics.js';
import { runWindowed } from '../load.js';
import { cpuSample, cpuSince } from '../../test/support/cpu.js';
import { fill, streamsInPartition } from '../scenarios/read-stream.js';
import { perSecond, round } from '../stats.js';
import { benchDataDir, deleteStoreTopics, randomSuffix } from '../store-fixture.js';
import { connectEmmett, FreshDatabase, type EmmettStore } from './postgres.js';
import { InterleavedHistory } from './self-check.js';
import { eventData, emptyResult, inTurn, record, type SystemName, type WorkloadContext, type WorkloadResult } from './workload.js';

export interface CatchUpOptions {
  /** Events in the Kafka store (read by Scribe and the raw consumer). */
  readonly events: number;
  /** Events in Emmett's log (the same unless --emmett-catch-up-events says fewer). */
  readonly emmettEvents: number;
  /**
   * Appends in flight while Emmett's log is written. 1 by default: with more, transactions
   * commit with interleaved global positions, and Emmett 0.42's consumer, which reads
   * `global_position >= last + 1 ORDER BY transaction_id, global_position`
   * (readMessagesBatch in @event-driven-io/emmett-postgresql), skips events (seen here:
   * 3,000 of 10,000 read with 8 writers); the self-check then fails the run.
   */
  readonly emmettLogWriters: number;
  /** Events Emmett's consumer (checkpointing every message) reads: its first ones. */
  readonly emmettConsumerEvents: number;
  readonly streams: number;
  readonly eventSize: number;
  readonly partitions: number;
  /** Give up on one reader after this long. */
  readonly caseTimeoutMs: number;
}

/** Records per poll: Scribe's subscription polls 500 at a time (src/store/subscription.ts), so does the raw consumer. */
const batchSize = 500;
/** Events per Emmett append while filling its log. */
const emmettChunk = 100;
const eventType = 'BenchRead';

/** The events every repetition reads, written once per run and removed at its end. */
export class CatchUpLog {
  private constructor(
    private readonly brokers: string[],
    /** The Scribe store holding the events, when Scribe or raw is measured. */
    readonly store: string | undefined,
    /** Emmett's log, when Emmett is measured. */
    private readonly emmett: { readonly database: FreshDatabase; readonly connection: EmmettStore } | undefined,
    readonly fillMs: Record<string, number>,
    /** Streams the events were written to, per log: what each reader must find. */
    private readonly streams: { kafka: number; emmett: number },
  ) {}

  static async write(o: CatchUpOptions, context: Pick<WorkloadContext, 'brokers' | 'systems' | 'log'>, database: () => Promise<FreshDatabase>): Promise<CatchUpLog> {
    const fillMs: Record<string, number> = {};
    const streams = { kafka: 0, emmett: 0 };
    let store: string | undefined;
    let emmett: { database: FreshDatabase; connection: EmmettStore } | undefined;
    try {
      if (context.systems.has('scribe') || context.systems.has('raw')) {
        store = `bench-cmp-log-${randomSuffix()}`;
        const began = performance.now();
        streams.kafka = await writeKafkaLog(context.brokers, store, o);
        fillMs.kafka = round(performance.now() - began, 1);
        context.log(`catch-up: ${o.events} events written to ${store} in ${round(fillMs.kafka / 1000, 1)} s`);
      }
      if (context.systems.has('emmett')) {
        const fresh = await database();
        emmett = { database: fresh, connection: await connectEmmett(fresh.url, 8) };
        const began = performance.now();
        streams.emmett = await writeEmmettLog(emmett.connection.store, o);
        fillMs.emmett = round(performance.now() - began, 1);
        context.log(`catch-up: ${o.emmettEvents} events written to Emmett's log (${fresh.name}) in ${round(fillMs.emmett / 1000, 1)} s`);
      }
    } catch (error) {
      await new CatchUpLog(context.brokers, store, emmett, fillMs, streams).remove();
      throw error;
    }
    return new CatchUpLog(context.brokers, store, emmett, fillMs, streams);
  }

  async measure(o: CatchUpOptions, context: WorkloadContext): Promise<WorkloadResult> {
    const result = emptyResult();
    const readers: { system: SystemName; variant: string; events: number; streams: number | undefined; run: () => Promise<{ elapsedMs: number; history?: InterleavedHistory }> }[] = [
      { system: 'scribe', variant: 'scribe-subscribe', events: o.events, streams: this.streams.kafka, run: () => readWithScribe(this.brokers, this.store!, o) },
      { system: 'raw', variant: 'raw-consumer', events: o.events, streams: this.streams.kafka, run: () => readWithRawConsumer(this.brokers, this.store!, o) },
      { system: 'emmett', variant: 'emmett-puller', events: o.emmettEvents, streams: this.streams.emmett, run: () => readWithEmmettPuller(this.emmett!.connection) },
      { system: 'emmett', variant: 'emmett-consumer', events: o.emmettConsumerEvents, streams: undefined, run: () => readWithEmmettConsumer(this.emmett!.connection, o.emmettConsumerEvents, context.tag) },
    ];
    for (const reader of inTurn(readers, context.repetition)) {
      if (!context.systems.has(reader.system)) continue;
      const cpu = cpuSample(context.brokers);
      const { elapsedMs, history } = await reader.run();
      const cpuUse = cpuSince(cpu);
      if (history) {
        history.expect(reader.events, reader.streams);
        result.selfChecks.push({ system: reader.system, workload: 'catch-up', streams: history.streams, events: history.events });
      }
      const eventsPerSec = perSecond(reader.events, elapsedMs);
      record(result, 'catch-up', 'from-start', reader.variant, { eventsPerSec, elapsedMs: round(elapsedMs, 1), ...cpuUse });
      context.log(`catch-up, ${reader.variant}: ${reader.events} events in ${round(elapsedMs / 1000, 2)} s, ${eventsPerSec} events/s`);
    }
    result.details.fillMs = this.fillMs;
    return result;
  }

  async remove(): Promise<void> {
    if (this.store) await deleteStoreTopics(this.brokers, this.store);
    if (this.emmett) {
      await this.emmett.connection.close();
      await this.emmett.database.drop();
    }
  }
}

/**
 * Writes `o.events` events over about `o.streams` streams (a whole number per partition), each
 * partition by its owner's transactional id, three partitions at a time. Returns the streams written.
 */
async function writeKafkaLog(brokers: string[], store: string, o: CatchUpOptions): Promise<number> {
  const admin = KafkaAdmin.connect({ brokers, clientId: 'bench-admin' });
  try {
    await ensureTopics(admin, store, o.partitions, 1);
  } finally {
    admin.disconnect();
  }
  const streamsPerPartition = Math.max(1, Math.floor(Math.min(o.streams, o.events) / o.partitions));
  let written = 0;
  await runWindowed({ total: o.partitions, window: 3 }, async (p) => {
    const count = Math.floor(o.events / o.partitions) + (p < o.events % o.partitions ? 1 : 0);
    const streams = streamsInPartition(Math.min(streamsPerPartition, count), p, o.partitions, `log-${store}`);
    const versions = new Int32Array(streams.length);
    written += streams.length;
    await fill(brokers, store, p, count, (k) => {
      const s = k % streams.length;
      return { streamId: streams[s]!, version: versions[s]!++ };
    }, { eventSize: o.eventSize, fillCommitEvery: 10_000 });
  });
  return written;
}

/** Stream s gets its share of the events, `emmettChunk` per append; `o.emmettLogWriters` streams are written at a time. Returns the streams written. */
async function writeEmmettLog(store: PostgresEventStore, o: CatchUpOptions): Promise<number> {
  const streams = Math.min(o.streams, o.emmettEvents);
  const data = eventData(o.eventSize);
  await runWindowed({ total: streams, window: o.emmettLogWriters }, async (s) => {
    const share = Math.floor(o.emmettEvents / streams) + (s < o.emmettEvents % streams ? 1 : 0);
    let next: bigint | undefined;
    for (let written = 0; written < share; written += emmettChunk) {
      const events = Array.from({ length: Math.min(emmettChunk, share - written) }, () => ({ type: eventType, data }));
      const appended = await store.appendToStream(`log-${s}`, events, { expectedStreamVersion: next ?? STREAM_DOES_NOT_EXIST });
      next = appended.nextExpectedStreamVersion;
    }
  });
  return streams;
}

/** Resolves when `until()` holds, polling; rejects after `timeoutMs`. */
async function waitUntil(what: string, timeoutMs: number, until: () => boolean, failed: () => Error | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const error = failed();
    if (error) throw error;
    if (until()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function readWithScribe(brokers: string[], store: string, o: CatchUpOptions) {
  const dataDir = benchDataDir();
  const reader = await EventStore.connect({ brokers, store, writer: false, dataDir, clientId: `bench-catch-up-${store}` });
  const history = new InterleavedHistory('scribe catch-up', 0);
  let failure: Error | undefined;
  try {
    const began = performance.now();
    const subscription = await reader.subscribe({ from: 'start' }, (event) => {
      try {
        history.add(event.streamId, event.version);
      } catch (error) {
        failure ??= error as Error;
      }
    });
    try {
      await waitUntil('scribe catch-up', o.caseTimeoutMs, () => history.events >= o.events, () => failure);
      return { elapsedMs: performance.now() - began, history };
    } finally {
      await subscription.stop();
    }
  } finally {
    await reader.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function readWithRawConsumer(brokers: string[], store: string, o: CatchUpOptions) {
  const topic = topicNames(store).events;
  const began = performance.now();
  const consumer = await KafkaConsumer.connect({ brokers, clientId: 'bench-catch-up-raw', isolation: 'read_committed' });
  try {
    consumer.assign(Array.from({ length: o.partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    const deadline = Date.now() + o.caseTimeoutMs;
    let read = 0;
    while (read < o.events) {
      if (Date.now() > deadline) throw new Error(`raw catch-up: ${read} of ${o.events} records after ${o.caseTimeoutMs} ms`);
      read += (await consumer.consume(batchSize, 100)).length;
    }
    return { elapsedMs: performance.now() - began };
  } finally {
    await consumer.disconnect();
  }
}

/** Emmett's pulling between batches: 0 instead of its default 50 ms, which would cap a reader of 500-event batches at 10,000 events/s. */
const emmettPulling = { batchSize, pullingFrequencyInMs: 0 };

/**
 * Emmett's reader of its global log (postgreSQLEventStoreMessageBatchPuller, what its consumer
 * polls with), without checkpoints, like Scribe's unnamed subscription; stops when no events are left.
 */
async function readWithEmmettPuller(emmett: EmmettStore) {
  const history = new InterleavedHistory('emmett catch-up (puller)', 1);
  const began = performance.now();
  const puller = postgreSQLEventStoreMessageBatchPuller({
    executor: emmett.execute,
    ...emmettPulling,
    stopWhen: { noMessagesLeft: true },
    signal: new AbortController().signal,
    eachBatch: (messages) => {
      for (const message of messages) history.add(message.metadata.streamName, Number(message.metadata.streamPosition));
    },
  });
  await puller.start({ startFrom: 'BEGINNING' });
  return { elapsedMs: performance.now() - began, history };
}

/**
 * Emmett's consumer with a reactor from the beginning: a durable processor, whose checkpoint
 * Emmett stores after every message (like Scribe's named subscription, which commits per
 * batch). It stops after `events` events: at a few thousand events per second, all of them
 * would not fit the run.
 */
async function readWithEmmettConsumer(emmett: EmmettStore, events: number, tag: string) {
  const history = new InterleavedHistory('emmett catch-up (consumer)', 1);
  const began = performance.now();
  const consumer = emmett.store.consumer({ pulling: emmettPulling, stopWhen: { noMessagesLeft: true } });
  consumer.reactor({
    processorId: `bench-catch-up-${tag}`,
    startFrom: 'BEGINNING',
    stopAfter: () => history.events >= events,
    eachMessage: (message) => {
      // The consumer may also hand over messages of its own; only the log's events count.
      if (message.type === eventType) history.add(message.metadata.streamName, Number(message.metadata.streamPosition));
    },
  });
  try {
    await consumer.start();
    return { elapsedMs: performance.now() - began, history };
  } finally {
    await consumer.stop();
  }
}
