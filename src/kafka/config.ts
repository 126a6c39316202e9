// The connection settings every Scribe client shares, and where the broker list comes
// from when the caller gives none (KAFKA_BROKERS).
import { InvalidArgumentError } from '../errors.js';
import { securitySettings, type KafkaSecurity } from './security.js';

export interface KafkaConnection {
  /** host:port pairs of bootstrap brokers. */
  readonly brokers: readonly string[];
  /** Prefix of every client.id, so the broker's logs and metrics name the process. */
  readonly clientId?: string;
  /** TLS, SASL and pass-through settings (the `kafka` connect option), checked. */
  readonly security?: KafkaSecurity;
  /** librdkafka's statistics of each producer and consumer, as JSON text every `intervalMs` (off when absent). */
  readonly statistics?: ClientStatisticsSink;
}

export interface ClientStatisticsSink {
  readonly intervalMs: number;
  report(json: string): void;
}

/** `statistics.interval.ms` for a producer's or consumer's configuration, when statistics are asked for. */
export function statisticsConfig(connection: KafkaConnection): Record<string, number> {
  return connection.statistics ? { 'statistics.interval.ms': connection.statistics.intervalMs } : {};
}

/** Hands the client's statistics events to the connection's sink. */
export function forwardStatistics(connection: KafkaConnection, client: { on(event: 'event.stats', listener: (stats: { message: string }) => void): unknown }): void {
  const sink = connection.statistics;
  if (!sink) return;
  client.on('event.stats', (stats) => {
    try {
      sink.report(stats.message);
    } catch {
      // A statistics reader must never become an uncaught exception in the binding's dispatcher.
    }
  });
}

/** Reads `KAFKA_BROKERS=host:port,...`; undefined when unset or empty. */
export function brokersFromEnvironment(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const value = env.KAFKA_BROKERS?.trim();
  if (!value) return undefined;
  return value.split(',').map((broker) => broker.trim()).filter((broker) => broker.length > 0);
}

/** Bootstrap brokers a store accepts in one list. */
export const maxBrokers = 100;

/**
 * Checks a broker list and names the entry at fault: an array of `host:port` strings, the
 * port from 1 to 65535, the host a name, an IPv4 address or a bracketed IPv6 address.
 */
export function validateBrokers(brokers: unknown, argument = 'brokers'): asserts brokers is readonly string[] {
  try {
    checkBrokers(brokers, argument);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    // A proxy or a getter of the caller's that throws.
    throw new InvalidArgumentError(argument, `could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function checkBrokers(brokers: unknown, argument: string): void {
  if (typeof brokers === 'string') {
    throw new InvalidArgumentError(argument, `must be an array of "host:port" strings, got the string ${JSON.stringify(brokers.slice(0, 100))} (write [${JSON.stringify(brokers.slice(0, 100))}])`);
  }
  if (!Array.isArray(brokers)) throw new InvalidArgumentError(argument, `must be an array of "host:port" strings, got ${brokers === null ? 'null' : typeof brokers}`);
  if (brokers.length === 0) throw new InvalidArgumentError(argument, 'at least one host:port is required');
  if (brokers.length > maxBrokers) throw new InvalidArgumentError(argument, `has ${brokers.length} entries; at most ${maxBrokers}`);
  for (let i = 0; i < brokers.length; i++) {
    const broker: unknown = brokers[i];
    const name = `${argument}[${i}]`;
    if (typeof broker !== 'string') throw new InvalidArgumentError(name, `must be a "host:port" string, got ${broker === null ? 'null' : typeof broker}`);
    const shown = JSON.stringify(broker.length > 100 ? `${broker.slice(0, 100)}...` : broker);
    const match = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9._-]+):(\d{1,5})$/.exec(broker);
    if (!match) throw new InvalidArgumentError(name, `${shown} is not host:port (a host name, IPv4 address or [IPv6] address, a colon, a port)`);
    const port = Number(match[2]);
    if (port < 1 || port > 65_535) throw new InvalidArgumentError(name, `${shown}: port ${port} is not from 1 to 65535`);
    if (match[1]!.length > 253) throw new InvalidArgumentError(name, `${shown}: the host name is longer than 253 characters`);
  }
}

/**
 * The settings every client shares: brokers, name, reconnects, then the connection's security
 * (whose pass-through settings may override the defaults above, never what callers set after).
 */
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
    ...(securitySettings(connection.security) as Record<string, string | number | boolean>),
  };
}
