// What a partition writer reports as typed events, on a real broker: each state move from the
// one transition function, each committed batch with its figures, each conflict, and, for a
// transaction that fails definitely (a transport failure injected through the producer
// factory, before the commit), the aborted batch, the new producer and the retry that commits.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StoreEvent } from '../../src/instrumentation/store-events.js';
import { KafkaAdmin, KafkaOperationError, type KafkaConnection } from '../../src/kafka/index.js';
import { kafkaErrorCodes } from '../../src/kafka/errors.js';
import { WriterGroup } from '../../src/ownership/writer-group.js';
import { RoutingLog } from '../../src/partitioning/routing-log.js';
import { ensureTopics } from '../../src/store/topics.js';
import { IndexFollower } from '../../src/stream-index/follower.js';
import { StreamIndex } from '../../src/stream-index/stream-index.js';
import type { EncodedEvent } from '../../src/streams/encoded-event.js';
import { WrongExpectedVersionError } from '../../src/streams/errors.js';
import type { AppendResult } from '../../src/streams/event.js';
import type { ExpectedVersion } from '../../src/streams/expected-version.js';
import { connectProducer, type ProducerFactory } from '../../src/writer/producer-factory.js';

const brokers = inject('brokers');

function encoded(id: string, data: string): EncodedEvent {
  return { id, type: 'Deposited', data: Buffer.from(data), metadata: undefined, contentType: 'application/json' };
}

describe('the partition writer’s instrumentation', () => {
  const heard: StoreEvent[] = [];
  let failNextBegin = false;
  const stops: (() => Promise<unknown>)[] = [];
  let group: WriterGroup;

  /** Producers whose next beginTransaction fails as a lost connection would (a definite failure). */
  const producers: ProducerFactory = async (options) => {
    const producer = await connectProducer(options);
    return {
      initTransactions: (timeoutMs) => producer.initTransactions(timeoutMs),
      beginTransaction: () => {
        if (!failNextBegin) return producer.beginTransaction();
        failNextBegin = false;
        return Promise.reject(new KafkaOperationError('beginTransaction', { message: 'Local: Broker transport failure', code: kafkaErrorCodes.ERR__TRANSPORT, errno: kafkaErrorCodes.ERR__TRANSPORT, origin: 'local' }));
      },
      send: (record) => producer.send(record),
      sendOffsetsToTransaction: (offsets, consumer, timeoutMs) => producer.sendOffsetsToTransaction(offsets, consumer, timeoutMs),
      commitTransaction: (timeoutMs) => producer.commitTransaction(timeoutMs),
      abortTransaction: (timeoutMs) => producer.abortTransaction(timeoutMs),
      disconnect: (timeoutMs) => producer.disconnect(timeoutMs),
    };
  };

  beforeAll(async () => {
    const store = `instrumented-${randomUUID().slice(0, 8)}`;
    const connection: KafkaConnection = { brokers, clientId: store };
    const admin = KafkaAdmin.connect(connection);
    stops.push(() => admin.disconnect());
    const layout = await ensureTopics(admin, store, 1, 1);
    const index = await StreamIndex.open(`.scribe/test/${store}/index`, layout.eventsTopicId);
    stops.push(() => index.close());
    const follower = await IndexFollower.start(connection, layout.topics, index);
    stops.push(() => follower.stop());
    const routing = await RoutingLog.open(connection, admin, layout.topics.routing, () => Promise.resolve(layout.partitions));
    stops.push(() => routing.stop());
    group = await WriterGroup.join({
      connection,
      store,
      topics: layout.topics,
      replyPartitions: layout.replyPartitions,
      index,
      follower,
      routing,
      endOffset: async (partition) => (await admin.endOffsets(layout.topics.events, [partition])).get(partition) ?? 0,
      sessionTimeoutMs: 6_000,
      timeoutMs: 10_000,
      transactionTimeoutMs: 10_000,
      maxConcurrentTransactions: 2,
      maxBatch: 1_000,
      log: () => undefined,
      instrument: (event) => heard.push(event),
      producers,
      onCommand: () => undefined,
    });
    stops.push(() => group.leave());
    const deadline = Date.now() + 60_000;
    while (!group.writerFor(0)) {
      if (Date.now() > deadline) throw new Error('the writer group never took partition 0');
      await new Promise((r) => setTimeout(r, 50));
    }
    await group.writerFor(0)!.ready();
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  function append(streamId: string, expectedVersion: ExpectedVersion, events: EncodedEvent[]): Promise<AppendResult> {
    return new Promise((resolve, reject) => group.writerFor(0)!.enqueue({ streamId, partitionKey: streamId, expectedVersion, events, resolve, reject }));
  }

  const moves = (from: number) => heard.slice(from).flatMap((e) => (e.type === 'writer-state-changed' ? [`${e.from}->${e.to}`] : []));

  it('reports the start, then each batch: its state moves and its figures', async () => {
    expect(moves(0)).toEqual(['starting->recovering', 'recovering->ready']);
    const before = heard.length;
    await append('account-1', 'no_stream', [encoded(randomUUID(), '{"amount":1}'), encoded(randomUUID(), '{"amount":22}')]);
    expect(moves(before)).toEqual(['ready->in-transaction', 'in-transaction->committing', 'committing->ready']);
    const committed = heard.slice(before).filter((e) => e.type === 'batch-committed');
    expect(committed).toHaveLength(1);
    expect(committed[0]).toMatchObject({ type: 'batch-committed', partition: 0, appends: 1, events: 2, bytes: 25 });
    expect((committed[0] as { durationMs: number }).durationMs).toBeGreaterThan(0);
  });

  it('reports each conflict with the version expected and the actual one', async () => {
    const before = heard.length;
    await expect(append('account-1', 'no_stream', [encoded(randomUUID(), '{}')])).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect(heard.slice(before).filter((e) => e.type === 'conflict')).toEqual([{ type: 'conflict', streamId: 'account-1', partition: 0, expected: 'no_stream', actual: 1 }]);
    // Nothing to write: no transaction, no state move.
    expect(moves(before)).toEqual([]);
  });

  it('reports a definite failure: the batch aborted (not stored), the state moves, the new producer, then the retry committed', async () => {
    const before = heard.length;
    failNextBegin = true;
    const result = await append('account-2', 'no_stream', [encoded(randomUUID(), '{}')]);
    expect(result.nextExpectedVersion).toBe(0);
    const events = heard.slice(before);
    expect(events.find((e) => e.type === 'batch-aborted')).toMatchObject({ type: 'batch-aborted', partition: 0, appends: 1, outcome: 'not-stored' });
    expect(events.find((e) => e.type === 'producer-reinitialised')).toMatchObject({ type: 'producer-reinitialised', partition: 0 });
    expect(moves(before)).toEqual([
      'ready->in-transaction',
      'in-transaction->abortable',
      'abortable->reinitialising',
      'reinitialising->starting',
      'starting->recovering',
      'recovering->ready',
      'ready->in-transaction',
      'in-transaction->committing',
      'committing->ready',
    ]);
    expect(events.filter((e) => e.type === 'batch-committed')).toHaveLength(1);
  });
});
