// The fault-test cluster: three KRaft nodes on loopback whose nodes a test can kill, pause
// and restart one at a time, with replication 3 and min.insync.replicas 2 enforced.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaAdmin, KafkaProducer, fetchMetadata } from '../../src/kafka/index.js';
import { LocalKafkaCluster } from '../../src/local-kafka/index.js';

describe('a local 3-node cluster', () => {
  let cluster: LocalKafkaCluster;
  // Patient: a write may wait for a leader election. Impatient: shows that a write fails.
  let producer: KafkaProducer;
  let impatient: KafkaProducer;
  const topic = `three-nodes-${randomUUID()}`;

  beforeAll(async () => {
    await LocalKafkaCluster.stopByName('fault-test');
    cluster = await LocalKafkaCluster.start({ nodes: 3, name: 'fault-test' });
    const admin = KafkaAdmin.connect({ brokers: cluster.brokers });
    await admin.createTopic({ name: topic, partitions: 1, replicationFactor: 3 });
    admin.disconnect();
    producer = await KafkaProducer.connect({ brokers: cluster.brokers, overrides: { 'message.timeout.ms': 60_000 } });
    impatient = await KafkaProducer.connect({ brokers: cluster.brokers, overrides: { 'message.timeout.ms': 3_000 } });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await impatient?.disconnect();
    await cluster?.stop();
  });

  const send = (value: string) => producer.send({ topic, partition: 0, key: 'k', value: Buffer.from(value) });

  it('registers three brokers', async () => {
    expect((await fetchMetadata({ brokers: cluster.brokers }, 5_000)).brokerIds).toEqual([1, 2, 3]);
  });

  it('keeps accepting acks=all writes with one node killed (SIGKILL), and refuses them with two gone', async () => {
    await send('all three up');
    await cluster.killNode(3);
    expect(cluster.isRunning(3)).toBe(false);
    await send('two of three');

    cluster.pauseNode(2);
    // One replica left: below min.insync.replicas, so no acknowledged write is possible.
    await expect(impatient.send({ topic, partition: 0, key: 'k', value: Buffer.from('one of three') })).rejects.toThrow(/timed out|replicas/i);
    cluster.resumeNode(2);
    await cluster.startNode(3);
    await send('all three back');
  });

  it('stops a node cleanly (SIGTERM) and starts it again on the same ports and data', async () => {
    const pidBefore = cluster.pid(1);
    await cluster.stopNode(1);
    expect(cluster.isRunning(1)).toBe(false);
    await send('node 1 stopped');
    await cluster.startNode(1);
    expect(cluster.pid(1)).not.toBe(pidBefore);
    expect((await fetchMetadata({ brokers: cluster.brokers }, 5_000)).brokerIds).toEqual([1, 2, 3]);
  });
});
