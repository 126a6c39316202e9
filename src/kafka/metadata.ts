// Cluster metadata: which brokers answer and which topics exist, and a client's own view of a
// topic refreshed on demand (partitions added by growth).
import rdkafka from '@confluentinc/kafka-javascript';
import { baseConfig, type KafkaConnection } from './config.js';
import { NativeClient } from './native-client.js';
import { securityWatch } from './security-watch.js';

export interface ClusterMetadata {
  readonly brokerIds: number[];
  readonly topics: { name: string; partitions: number }[];
}

/** One metadata round trip with a short-lived client; fails if no broker answers within `timeoutMs`. */
export async function fetchMetadata(connection: KafkaConnection, timeoutMs: number): Promise<ClusterMetadata> {
  const client = new rdkafka.Producer(baseConfig(connection, 'metadata') as rdkafka.ProducerGlobalConfig);
  const security = securityWatch('metadata client', connection.security);
  security?.watch(client);
  const native = new NativeClient('metadata client', security);
  try {
    const metadata = await native.call<rdkafka.Metadata>('metadata', timeoutMs + 1_000, (done) =>
      client.connect({ timeout: timeoutMs, allTopics: true }, (error, data) => done(error, data)),
    );
    return {
      brokerIds: metadata.brokers.map((b) => b.id).sort((a, b) => a - b),
      topics: metadata.topics.map((t) => ({ name: t.name, partitions: t.partitions.length })),
    };
  } finally {
    // No flush: this client never produced. A connect that failed was disconnected by the binding.
    void native.close(() => (client.isConnected() ? new Promise<void>((resolve) => client.disconnect(0, () => resolve())) : Promise.resolve()), 0, 5_000);
  }
}

/**
 * Makes the client read the topic's metadata now: librdkafka otherwise learns of partitions
 * added since only at its next periodic refresh, and refuses or ignores them until then.
 */
export function refreshTopicMetadata(client: rdkafka.Client<string>, native: NativeClient, topic: string, timeoutMs: number): Promise<void> {
  return native.call<void>('metadata', timeoutMs + 2_000, (done) => client.getMetadata({ topic, timeout: timeoutMs }, (error) => done(error)));
}
