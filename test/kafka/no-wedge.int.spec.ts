// Issue 13: a broker fault must never wedge a process. A Kafka client closed while one of
// its calls waits for a frozen broker is parked, not destroyed under the call (which
// deadlocked librdkafka); close() returns within its bound and the process goes on.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/index.js';
import { KafkaAdmin, KafkaConsumer, KafkaProducer } from '../../src/kafka/index.js';
import { parkedClients } from '../../src/kafka/native-client.js';
import { LocalKafkaCluster } from '../../src/local-kafka/index.js';

async function eventually(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('no native call is left behind', () => {
  let cluster: LocalKafkaCluster;
  let brokers: string[];

  beforeAll(async () => {
    await LocalKafkaCluster.stopByName('no-wedge');
    cluster = await LocalKafkaCluster.start({ name: 'no-wedge' });
    brokers = cluster.brokers;
  });
  afterAll(async () => {
    cluster?.resumeNode(1);
    await cluster?.stop();
  });

  it('parks a producer closed during sendOffsetsToTransaction to a frozen broker, and destroys it once the call returns', async () => {
    const topic = `no-wedge-${randomUUID()}`;
    const admin = KafkaAdmin.connect({ brokers });
    await admin.createTopic({ name: topic, partitions: 1, replicationFactor: 1 });
    await admin.disconnect();
    const group = await KafkaConsumer.connect({ brokers, groupId: `no-wedge-${randomUUID()}` });
    group.subscribe([topic]);
    await eventually(() => group.assignments().length > 0 || (void group.consume(1, 100).catch(() => undefined), false), 20_000).catch(() => undefined);
    const producer = await KafkaProducer.connect({ brokers, transactionalId: `no-wedge-${randomUUID()}`, transactionTimeoutMs: 60_000 });
    await producer.initTransactions(10_000);
    await producer.beginTransaction();
    await producer.send({ topic, partition: 0, key: 'k', value: Buffer.from('v') });

    cluster.pauseNode(1);
    try {
      const offsets = producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 1 }], group, 8_000);
      const outcome = offsets.then(() => 'sent', () => 'failed');
      await new Promise((resolve) => setTimeout(resolve, 300));

      const closing = Date.now();
      await producer.disconnect(1_000);
      await group.disconnect(1_000);
      expect(Date.now() - closing).toBeLessThan(5_000);
      // Both are kept: the producer's call runs, and it reads the consumer's handle.
      expect(parkedClients().length).toBe(2);
      cluster.resumeNode(1);
      expect(['sent', 'failed']).toContain(await outcome);
    } finally {
      cluster.resumeNode(1);
    }
    await eventually(() => parkedClients().length === 0, 60_000);
    // The process still makes native calls: no thread of the pool is held by a deadlock.
    await cluster.waitUntilReady(30_000);
  });

  it('closes a store within closeTimeoutMs while its broker is frozen, and answers concurrent close() calls together', async () => {
    const store = await EventStore.connect({
      brokers,
      store: `no-wedge-${randomUUID().slice(0, 8)}`,
      partitions: 2,
      dataDir: `.scribe/test/${randomUUID()}`,
      appendTimeoutMs: 20_000,
      closeTimeoutMs: 5_000,
    });
    await store.append('account-1', [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });
    cluster.pauseNode(1);
    try {
      const append = store.append('account-1', [{ type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 0 }).then(
        () => 'ok',
        (error: { code?: string }) => error.code,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = Date.now();
      const finished: number[] = [];
      await Promise.all([store.close(), store.close()].map((closing) => closing.then(() => finished.push(Date.now() - started))));
      expect(Math.max(...finished)).toBeLessThan(5_000 + 3_000);
      expect(Math.max(...finished) - Math.min(...finished)).toBeLessThan(100);
      cluster.resumeNode(1);
      // Whatever became of it, the append is answered (acknowledged, refused, or unknown: never hung).
      expect(['ok', 'APPEND_OUTCOME_UNKNOWN', 'OWNERSHIP_CHANGED', 'APPEND_ABORTED', 'STORE_CLOSED']).toContain(await append);
    } finally {
      cluster.resumeNode(1);
    }
    await eventually(() => parkedClients().length === 0, 60_000);
    await cluster.waitUntilReady(30_000);
  });
});
