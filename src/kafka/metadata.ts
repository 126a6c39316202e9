// Cluster metadata: which brokers answer and which topics exist, and a client's own view of a
// topic refreshed on demand (partitions added by growth).
import rdkafka from '@confluentinc/kafka-javascript';
import { withTimeout } from '../errors.js';
import { baseConfig, type KafkaConnection } from './config.js';
import { kafkaError } from './errors.js';

export interface ClusterMetadata {
  readonly brokerIds: number[];
  readonly topics: { name: string; partitions: number }[];
}

/** One metadata round trip with a short-lived client; fails if no broker answers within `timeoutMs`. */
export async function fetchMetadata(connection: KafkaConnection, timeoutMs: number): Promise<ClusterMetadata> {
  const client = new rdkafka.Producer(baseConfig(connection, 'metadata') as rdkafka.ProducerGlobalConfig);
  try {
    const metadata = await withTimeout(
      'metadata',
      timeoutMs + 1_000,
      new Promise<rdkafka.Metadata>((resolve, reject) => {
        client.connect({ timeout: timeoutMs, allTopics: true }, (error, data) => (error ? reject(kafkaError('metadata', error)) : resolve(data)));
      }),
    );
    return {
      brokerIds: metadata.brokers.map((b) => b.id).sort((a, b) => a - b),
      topics: metadata.topics.map((t) => ({ name: t.name, partitions: t.partitions.length })),
    };
  } finally {
    client.disconnect();
  }
}

/**
 * Makes the client read the topic's metadata now: librdkafka otherwise learns of partitions
 * added since only at its next periodic refresh, and refuses or ignores them until then.
 */
export function refreshTopicMetadata(client: rdkafka.Client<string>, topic: string, timeoutMs: number): Promise<void> {
  return withTimeout(
    'metadata',
    timeoutMs + 2_000,
    new Promise<void>((resolve, reject) => {
      client.getMetadata({ topic, timeout: timeoutMs }, (error) => (error ? reject(kafkaError('metadata', error)) : resolve()));
    }),
  );
}
