// Cluster metadata as a plain client sees it: which brokers answer and which topics exist.
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
