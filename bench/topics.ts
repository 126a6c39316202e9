// Fresh topics for a measurement: created before it, deleted after it.
import { randomUUID } from 'node:crypto';
import { KafkaAdmin } from '../src/kafka/index.js';

export interface FreshTopicSpec {
  /** Start of the topic's name; a random suffix makes it fresh. */
  readonly prefix: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** Creates a new topic, runs `body` with its name, and deletes the topic afterwards. */
export async function withFreshTopic<T>(brokers: string[], spec: FreshTopicSpec, body: (topic: string) => Promise<T>): Promise<T> {
  const topic = `${spec.prefix}-${randomUUID().slice(0, 8)}`;
  const admin = KafkaAdmin.connect({ brokers, clientId: 'bench-admin' });
  try {
    await admin.createTopic({ name: topic, partitions: spec.partitions, replicationFactor: spec.replicationFactor });
    const deadline = Date.now() + 15_000;
    while ((await admin.describeTopic(topic))?.partitions !== spec.partitions) {
      if (Date.now() > deadline) throw new Error(`topic ${topic} did not show ${spec.partitions} partitions within 15 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    try {
      return await body(topic);
    } finally {
      await admin.deleteTopic(topic).catch(() => undefined);
    }
  } finally {
    admin.disconnect();
  }
}
