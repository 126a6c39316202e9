// The connection settings every Scribe client shares, and where the broker list comes
// from when the caller gives none (KAFKA_BROKERS).
import { InvalidArgumentError } from '../errors.js';

export interface KafkaConnection {
  /** host:port pairs of bootstrap brokers. */
  readonly brokers: readonly string[];
  /** Prefix of every client.id, so the broker's logs and metrics name the process. */
  readonly clientId?: string;
}

/** Reads `KAFKA_BROKERS=host:port,...`; undefined when unset or empty. */
export function brokersFromEnvironment(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const value = env.KAFKA_BROKERS?.trim();
  if (!value) return undefined;
  return value.split(',').map((broker) => broker.trim()).filter((broker) => broker.length > 0);
}

export function validateBrokers(brokers: readonly string[]): void {
  if (brokers.length === 0) throw new InvalidArgumentError('brokers', 'at least one host:port is required');
  for (const broker of brokers) {
    if (!/^[^\s:,]+:\d{1,5}$/.test(broker)) throw new InvalidArgumentError('brokers', `"${broker}" is not host:port`);
  }
}

export function baseConfig(connection: KafkaConnection, role: string): Record<string, string | number | boolean> {
  validateBrokers(connection.brokers);
  return {
    'bootstrap.servers': connection.brokers.join(','),
    'client.id': `${connection.clientId ?? 'scribe'}-${role}`,
    // Loopback and LAN clusters: discover a restarted broker quickly.
    'reconnect.backoff.ms': 50,
    'reconnect.backoff.max.ms': 1000,
    'topic.metadata.refresh.interval.ms': 10_000,
    // librdkafka logs to stderr by default; Scribe surfaces errors through its own calls.
    log_level: 3,
  };
}
