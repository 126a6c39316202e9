// read-stream: readStream must cost O(events in the stream), not O(events in its partition)
// (issue 3, point 3). The same stream of 1,000 events is read from a partition that also holds
// 1,000,000 events of other streams and from an otherwise empty partition of another store;
// once each process's index has caught up, the two read times should differ by less than 3x.
// Building the index from scratch for the big partition (connect + first read) is the
// catch-up cost, reported separately.
//
// Both partitions are filled before any Scribe process connects, by a raw transactional
// producer writing Scribe's record format (src/records/event-record.ts) with the owner's own
// transactional.id `<store>.p<partition>`: much faster than appending a million events.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { EventStore } from '../../src/index.js';
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.js';
import { partitionForKey } from '../../src/partitioning/murmur2.js';
import { eventHeaders, jsonContentType, type EncodedEvent } from '../../src/records/event-record.js';
import { ensureTopics } from '../../src/store/topics.js';
import { positiveInteger, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { latencySummary, median, medianFormatter, perSecond, round } from '../stats.js';
import { benchDataDir, deleteStoreTopics, memory, payloadOf, randomSuffix } from '../store-fixture.js';

export interface ReadStreamOptions {
  /** Events of other streams in the big partition. */
  readonly others: number;
  /** How many other streams those events belong to. */
  readonly otherStreams: number;
  /** Events of the stream that is read. */
  readonly events: number;
  /** Timed reads of the whole stream, per store, after the first. */
  readonly reads: number;
  readonly eventSize: number;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Records per transaction of the filling producer. */
  readonly fillCommitEvery: number;
  readonly caseTimeoutMs: number;
}

const eventType = 'BenchRead';

export interface PlannedEvent {
  readonly streamId: string;
  readonly version: number;
}

/**
 * Writes the planned events to `<store>.events` partition `partition` in Scribe's record
 * format, in transactions of `commitEvery` records, as the partition's owner would
 * (transactional.id `<store>.p<partition>`). Returns the time it took.
 */
export async function fill(brokers: string[], store: string, partition: number, count: number, plan: (k: number) => PlannedEvent, o: Pick<ReadStreamOptions, 'eventSize' | 'fillCommitEvery'>): Promise<number> {
  const began = performance.now();
  const producer = await KafkaProducer.connect({ brokers, clientId: `bench-fill-${store}`, transactionalId: `${store}.p${partition}`, transactionTimeoutMs: 60_000 });
  try {
    await producer.initTransactions(30_000);
    const data = Buffer.from(JSON.stringify(payloadOf(o.eventSize)));
    const topic = `${store}.events`;
    for (let first = 0; first < count; first += o.fillCommitEvery) {
      await producer.beginTransaction();
      const sends: Promise<unknown>[] = [];
      for (let k = first; k < Math.min(count, first + o.fillCommitEvery); k++) {
        const { streamId, version } = plan(k);
        const event: EncodedEvent = { id: randomUUID(), type: eventType, data, metadata: undefined, contentType: jsonContentType };
        sends.push(producer.send({ topic, partition, key: streamId, value: data, headers: eventHeaders(streamId, version, event) }));
      }
      await Promise.all(sends);
      await producer.commitTransaction(60_000);
    }
  } finally {
    await producer.disconnect();
  }
  return performance.now() - began;
}

/** Stream ids (other than `exclude`) whose partition is `partition`, as Scribe would place them. */
export function streamsInPartition(count: number, partition: number, partitions: number, prefix: string): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) {
    const id = `${prefix}-${i}`;
    if (partitionForKey(id, partitions) === partition) ids.push(id);
  }
  return ids;
}

/** Reads the whole stream and checks it: versions 0..events-1 in order. Returns the time it took. */
async function readWhole(store: EventStore, streamId: string, events: number): Promise<number> {
  const began = performance.now();
  let version = 0;
  for await (const event of store.readStream(streamId)) {
    if (event.version !== version) throw new Error(`${streamId}: version ${event.version} where ${version} was expected`);
    version++;
  }
  const elapsed = performance.now() - began;
  if (version !== events) throw new Error(`${streamId}: read ${version} events, ${events} were written`);
  return elapsed;
}

interface Reader {
  readonly label: 'big' | 'empty';
  readonly name: string;
  readonly dataDir: string;
  store?: EventStore;
  connectMs?: number;
  firstReadMs?: number;
  readonly readsMs: number[];
}

async function run(o: ReadStreamOptions, context: BenchContext): Promise<RepetitionResult> {
  const suffix = randomSuffix();
  const streamId = `read-${suffix}`;
  const partition = partitionForKey(streamId, o.partitions);
  const readers: Reader[] = [
    { label: 'big', name: `bench-read-big-${suffix}`, dataDir: benchDataDir(), readsMs: [] },
    { label: 'empty', name: `bench-read-empty-${suffix}`, dataDir: benchDataDir(), readsMs: [] },
  ];
  const [big, empty] = readers as [Reader, Reader];
  const details: Record<string, unknown> = { streamId, partition };
  const admin = KafkaAdmin.connect({ brokers: context.brokers, clientId: 'bench-admin' });
  try {
    for (const reader of readers) await ensureTopics(admin, reader.name, o.partitions, o.replicationFactor);

    // The big partition: the stream's events spread evenly among the others', all in version order.
    const others = streamsInPartition(o.otherStreams, partition, o.partitions, `other-${suffix}`);
    const total = o.others + o.events;
    const every = total / o.events;
    let otherIndex = 0;
    let streamVersion = 0;
    const otherVersions = new Int32Array(others.length);
    const bigPlan = (k: number): PlannedEvent => {
      // Event k of the partition belongs to the stream when it is the next multiple of `every`.
      if (streamVersion < o.events && k >= Math.floor(streamVersion * every)) return { streamId, version: streamVersion++ };
      const s = otherIndex++ % others.length;
      return { streamId: others[s]!, version: otherVersions[s]!++ };
    };
    context.log(`filling ${big.name}.events partition ${partition}: ${o.events} events of ${streamId} among ${o.others} events of ${others.length} other streams...`);
    const bigFillMs = await fill(context.brokers, big.name, partition, total, bigPlan, o);
    if (streamVersion !== o.events) throw new Error(`planned ${streamVersion} events of ${streamId}, not ${o.events}`);
    context.log(`  filled in ${round(bigFillMs / 1000, 1)} s (${perSecond(total, bigFillMs)} records/s)`);
    const emptyFillMs = await fill(context.brokers, empty.name, partition, o.events, (k) => ({ streamId, version: k }), o);
    details.fill = { bigRecords: total, bigMs: round(bigFillMs, 1), emptyRecords: o.events, emptyMs: round(emptyFillMs, 1) };

    // Catch-up: a reader process (writer: false) builds its index from Kafka on the first read.
    for (const reader of readers) {
      const began = performance.now();
      reader.store = await EventStore.connect({
        brokers: context.brokers,
        store: reader.name,
        writer: false,
        dataDir: reader.dataDir,
        clientId: `bench-${reader.name}`,
        appendTimeoutMs: o.caseTimeoutMs,
        log: (line) => context.log(`store: ${line}`),
      });
      reader.connectMs = performance.now() - began;
      reader.firstReadMs = await readWhole(reader.store, streamId, o.events);
      context.log(`${reader.label}: connect ${round(reader.connectMs, 1)} ms, first read (index built from Kafka) ${round(reader.firstReadMs, 1)} ms`);
    }
    details.memoryAfterBuild = memory();

    // Steady state: alternate the two stores so that both meet the same machine load.
    for (let i = 0; i < o.reads; i++) {
      const order = i % 2 === 0 ? readers : [...readers].reverse();
      for (const reader of order) reader.readsMs.push(await readWhole(reader.store!, streamId, o.events));
    }
  } finally {
    for (const reader of readers) await reader.store?.close().catch((error: unknown) => context.log(`closing ${reader.name}: ${String(error)}`));
    admin.disconnect();
    for (const reader of readers) {
      await deleteStoreTopics(context.brokers, reader.name);
      rmSync(reader.dataDir, { recursive: true, force: true });
    }
  }

  const bigMedian = median(big.readsMs);
  const emptyMedian = median(empty.readsMs);
  const figures: Record<string, number> = {
    'big.readMedianMs': round(bigMedian),
    'empty.readMedianMs': round(emptyMedian),
    'bigOverEmpty.readRatio': round(bigMedian / emptyMedian, 2),
    'big.connectMs': round(big.connectMs!, 1),
    'big.firstReadMs': round(big.firstReadMs!, 1),
    'big.indexBuildMs': round(big.connectMs! + big.firstReadMs!, 1),
    'big.indexBuildEventsPerSec': perSecond(o.others + o.events, big.connectMs! + big.firstReadMs!),
    'empty.connectMs': round(empty.connectMs!, 1),
    'empty.firstReadMs': round(empty.firstReadMs!, 1),
  };
  for (const reader of readers) details[reader.label] = { store: reader.name, reads: latencySummary(reader.readsMs), eachReadMs: reader.readsMs.map((ms) => round(ms, 2)) };
  context.log(`read medians: big ${figures['big.readMedianMs']} ms, empty ${figures['empty.readMedianMs']} ms, ratio ${figures['bigOverEmpty.readRatio']}`);
  return { figures, details };
}

export const readStream: Scenario<ReadStreamOptions> = {
  name: 'read-stream',
  description: 'readStream of a 1,000-event stream in a partition holding 1,000,000 other events vs an empty one (target ratio < 3), and the index build (catch-up) cost',

  defineOptions(command: Command) {
    command
      .option('--others <n>', 'events of other streams in the big partition', '1000000')
      .option('--other-streams <n>', 'how many other streams those events belong to', '10000')
      .option('--events <n>', 'events of the stream that is read', '1000')
      .option('--reads <n>', 'timed reads of the whole stream per store, after the first', '31')
      .option('--fill-commit-every <n>', 'records per transaction of the producer that fills the partitions', '10000');
    defineShared(command, ['eventSize', 'partitions', 'replicationFactor', 'caseTimeoutMs'], {
      partitions: { description: 'partitions of each store' },
      replicationFactor: { description: 'replication factor of each store' },
      caseTimeoutMs: { description: 'bound on the first read (the index build)', defaultValue: '600000' },
    });
  },

  parseOptions(raw) {
    return {
      others: positiveInteger('others', raw.others),
      otherStreams: positiveInteger('other-streams', raw.otherStreams),
      events: positiveInteger('events', raw.events),
      reads: positiveInteger('reads', raw.reads),
      ...parseShared(raw, ['eventSize', 'partitions', 'replicationFactor', 'caseTimeoutMs']),
      fillCommitEvery: positiveInteger('fill-commit-every', raw.fillCommitEvery),
    };
  },

  run,

  notes(o) {
    return [
      `Two fresh stores (${o.partitions} partitions, RF ${o.replicationFactor}). One stream of ${o.events} events (${o.eventSize}-byte JSON data each) in partition p of both; in the "big" store, p also holds ${o.others} events of ${o.otherStreams} other streams (ids chosen to hash to p), the stream's events spread evenly among them; in the "empty" store p holds only the stream.`,
      `Both partitions are filled before any Scribe process connects, by a raw transactional producer (src/kafka/producer.ts) writing Scribe's record format (key = stream id, headers scribe.stream/version/type/id and content-type) with transactional.id <store>.p<p>, ${o.fillCommitEvery} records per transaction.`,
      'Each store is then read by its own EventStore with writer: false (a reader, not an owner) and a fresh local index: connect, then the first readStream, which catches the partition up into the index from Kafka (the index build, i.e. the catch-up cost: big.indexBuildMs = connect + first read).',
      `Then ${o.reads} timed reads of the whole stream per store, alternating the stores; each read is readStream from version 0 to the end (it includes readStream's check of the partition's last stable offset, one ListOffsets round trip) and verifies versions 0..${o.events - 1}. bigOverEmpty.readRatio = median big / median empty; the target is < 3.`,
      'Figures are comparable only within one run (same machine, same broker, same moment); the machine is shared.',
    ];
  },

  summarize(medians, o) {
    const show = medianFormatter(medians);
    const ratio = medians['bigOverEmpty.readRatio'];
    return [
      `  readStream of ${o.events} events, median of ${o.reads} reads: ${show('big.readMedianMs', ' ms')} among ${o.others.toLocaleString('en-US')} other events, ${show('empty.readMedianMs', ' ms')} alone; ratio ${show('bigOverEmpty.readRatio')} (target < 3: ${ratio !== undefined && ratio < 3 ? 'met' : 'MISSED'})`,
      `  index build for the big partition (connect + first read): ${show('big.indexBuildMs', ' ms')} (${show('big.indexBuildEventsPerSec', ' events/s')}); empty: connect ${show('empty.connectMs', ' ms')} + first read ${show('empty.firstReadMs', ' ms')}`,
    ];
  },
};
