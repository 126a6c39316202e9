// What Scribe relies on from Kafka itself, shown on the real broker: read_committed readers
// see committed transactions only, and a new producer with the same transactional.id fences
// the old one.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KafkaAdmin, KafkaConsumer, KafkaOperationError, KafkaProducer, type KafkaMessage } from '../../src/kafka/index.js';

const brokers = inject('brokers');

async function readAll(topic: string, expectedEnd: number): Promise<KafkaMessage[]> {
  const consumer = await KafkaConsumer.connect({ brokers, isolation: 'read_committed' });
  try {
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const seen: KafkaMessage[] = [];
    const deadline = Date.now() + 20_000;
    // read_committed stops at the last stable offset; markers occupy offsets, so the reader
    // is done when it has passed the offset of the last record the test wrote.
    while (Date.now() < deadline) {
      seen.push(...(await consumer.consume(500, 200)));
      const position = consumer.positions([{ topic, partition: 0 }])[0]?.offset ?? 0;
      if (position >= expectedEnd) break;
    }
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

describe('Kafka transactions on the local broker', () => {
  const topic = `txn-proof-${randomUUID()}`;
  let admin: KafkaAdmin;

  beforeAll(async () => {
    admin = KafkaAdmin.connect({ brokers });
    await admin.createTopic({ name: topic, partitions: 1, replicationFactor: brokers.length >= 3 ? 3 : 1 });
  });
  afterAll(() => admin.disconnect());

  it('shows read_committed consumers the committed transaction and never the aborted one', async () => {
    const producer = await KafkaProducer.connect({ brokers, transactionalId: `txn-proof-${randomUUID()}` });
    try {
      await producer.initTransactions(30_000);

      await producer.beginTransaction();
      await Promise.all(['c1', 'c2', 'c3'].map((v) => producer.send({ topic, partition: 0, key: 'k', value: Buffer.from(v) })));
      await producer.commitTransaction(30_000);

      await producer.beginTransaction();
      await Promise.all(['a1', 'a2'].map((v) => producer.send({ topic, partition: 0, key: 'k', value: Buffer.from(v) })));
      await producer.abortTransaction(30_000);

      await producer.beginTransaction();
      await producer.send({ topic, partition: 0, key: 'k', value: Buffer.from('c4') });
      await producer.commitTransaction(30_000);
    } finally {
      await producer.disconnect();
    }

    const end = (await admin.endOffsets(topic, [0])).get(0) ?? 0;
    // 6 records and 3 transaction markers.
    expect(end).toBe(9);
    const values = (await readAll(topic, end)).map((m) => m.value?.toString());
    expect(values).toEqual(['c1', 'c2', 'c3', 'c4']);
  });

  it('fences the older producer when a new one initialises the same transactional.id', async () => {
    const transactionalId = `fencing-proof-${randomUUID()}`;
    const zombie = await KafkaProducer.connect({ brokers, transactionalId });
    const successor = await KafkaProducer.connect({ brokers, transactionalId });
    try {
      await zombie.initTransactions(30_000);
      await zombie.beginTransaction();
      await zombie.send({ topic, partition: 0, key: 'k', value: Buffer.from('zombie') });

      // The successor's init bumps the epoch and aborts the zombie's open transaction.
      await successor.initTransactions(30_000);

      const failure = await zombie.commitTransaction(10_000).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(KafkaOperationError);
      expect((failure as KafkaOperationError).fenced).toBe(true);
      expect((failure as KafkaOperationError).fatal).toBe(true);

      await successor.beginTransaction();
      await successor.send({ topic, partition: 0, key: 'k', value: Buffer.from('successor') });
      await successor.commitTransaction(30_000);
    } finally {
      await zombie.disconnect();
      await successor.disconnect();
    }
    const end = (await admin.endOffsets(topic, [0])).get(0) ?? 0;
    const values = (await readAll(topic, end)).map((m) => m.value?.toString());
    expect(values).toContain('successor');
    expect(values).not.toContain('zombie');
  });
});
