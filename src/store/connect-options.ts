// The options of `EventStore.connect`, their defaults, and the check that refuses a bad one
// (naming it) before any client, topic or file is made.
import { existsSync, statSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { describeValue, InvalidArgumentError } from '../errors.js';
import { brokersFromEnvironment, securityFromEnvironment, validateBrokers, validateKafkaSecurity, type KafkaSecurity, type KafkaSecurityOptions } from '../kafka/index.js';
import { unknownEventPolicies, type EventSchemas, type UnknownEventPolicy } from '../schemas/event-schemas.js';
import { compatibilityLevels, type SchemaRegistryOptions } from '../schemas/schema-registry.js';
import { operationDefaults, schemasOption } from './operation-arguments.js';
import type { StoreListener } from '../instrumentation/store-events.js';
import type { StoreTracing } from '../instrumentation/tracing.js';
import { booleanOption, functionOption, integerOption, maxTimeoutMs, messageOf, oneOf, validateName, validateOptions, validateStoreName } from './validation.js';

export interface ConnectOptions {
  /** Bootstrap brokers; defaults to KAFKA_BROKERS. */
  readonly brokers?: readonly string[];
  /** Topic prefix: `<store>.events`, `<store>.snapshots`, `<store>.appends`, `<store>.replies`. */
  readonly store: string;
  /** Partition count used when the store's topics are created (default 12). */
  readonly partitions?: number;
  /** Replication factor used when the store's topics are created (default 1). */
  readonly replicationFactor?: number;
  /** Join the writer group and own some partitions (default true). */
  readonly writer?: boolean;
  /** Where this process keeps its local stream index (default `.scribe/<store>/<host>-<pid>` under the working directory). */
  readonly dataDir?: string;
  /** Bound on every append, including its retries after an ownership change (default 30 s). */
  readonly appendTimeoutMs?: number;
  /** Writer group session timeout: how long a silent owner keeps its partitions (default 10 s). */
  readonly sessionTimeoutMs?: number;
  /** Coordinator-side bound on an owner's open transaction (default 10 s). */
  readonly transactionTimeoutMs?: number;
  /** Bound on `close()` (default 30 s): clients still waiting for a broker then are left to finish on their own. */
  readonly closeTimeoutMs?: number;
  /**
   * Transactions this process runs at the same time across the partitions it owns (default:
   * 2 per CPU core). Appends that wait for a slot join the next transaction of their
   * partition, so fewer, larger transactions carry the same load with less work per event.
   */
  readonly maxConcurrentTransactions?: number;
  /** Largest encoded event accepted (default 1,000,000 bytes, librdkafka's message.max.bytes less headroom). */
  readonly maxEventBytes?: number;
  /**
   * The store's event types and their versions: appends are validated against the latest
   * schema of their type, and every read upcasts events to the latest versions.
   */
  readonly schemas?: EventSchemas;
  /** With `schemas`: what a read does with an event of an unknown type or version (default 'fail'). */
  readonly onUnknownEvent?: UnknownEventPolicy;
  /**
   * With `schemas`: register them in this Confluent-compatible registry at connect (an
   * incompatible version fails the connect) and write event data in its wire format.
   */
  readonly schemaRegistry?: SchemaRegistryOptions;
  /** Names the process in broker logs and metrics. */
  readonly clientId?: string;
  /**
   * How every Kafka client of the store connects: TLS, SASL (PLAIN, SCRAM, OAUTHBEARER with a
   * token provider) and other librdkafka settings. Defaults to the KAFKA_SASL_*, KAFKA_TLS_*
   * and KAFKA_CONFIG_FILE environment (README, "Secured clusters"); plaintext when none is set.
   */
  readonly kafka?: KafkaSecurityOptions;
  /**
   * Receives the store's operational events as one line each (writers starting, stopping,
   * failing, ownership changes); per-append and per-batch events go to `on` listeners only.
   */
  readonly log?: (line: string) => void;
  /**
   * Listeners for the store's typed events (see StoreEvent): batches committed and aborted,
   * appends settled, ownership, index and subscription progress. They run synchronously on the
   * store's path: keep them cheap. One that throws is reported once and otherwise ignored.
   */
  readonly on?: StoreListener | readonly StoreListener[];
  /**
   * Traces appends and commands, at the caller and at the owner, with their transactions; the
   * trace context travels to a remote owner and into each event's metadata. Give
   * `openTelemetryTracing()` from `scribe/opentelemetry`.
   */
  readonly tracing?: StoreTracing;
  /**
   * Every this many ms, each Kafka client's statistics (librdkafka's: queue depth, request round
   * trip per broker, consumer lag) as `kafka-statistics` events, for `scribe/metrics`. Off by default.
   */
  readonly kafkaStatisticsIntervalMs?: number;
}

export const defaults = {
  ...operationDefaults,
  partitions: 12,
  replicationFactor: 1,
  appendTimeoutMs: 30_000,
  sessionTimeoutMs: 10_000,
  transactionTimeoutMs: 10_000,
  closeTimeoutMs: 30_000,
  maxBatch: 1_000,
};

/** Connect options as checked, with their defaults. */
export interface ValidConnectOptions {
  readonly store: string;
  readonly brokers: string[];
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly writer: boolean;
  readonly dataDir: string;
  readonly settings: { appendTimeoutMs: number; maxEventBytes: number; sessionTimeoutMs: number; transactionTimeoutMs: number; closeTimeoutMs: number; maxConcurrentTransactions: number };
  readonly schemas: EventSchemas | undefined;
  readonly onUnknownEvent: UnknownEventPolicy;
  readonly schemaRegistry: SchemaRegistryOptions | undefined;
  readonly clientId: string;
  readonly security: KafkaSecurity | undefined;
  readonly log: ((line: string) => void) | undefined;
  readonly listeners: StoreListener[];
  readonly tracing: StoreTracing | undefined;
  readonly kafkaStatisticsIntervalMs: number | undefined;
}

/** Checks every connect option and names the one at fault; nothing has started yet. */
/** @internal Exported for the unit specification of bad input. */
export function validateConnectOptions(input: unknown): ValidConnectOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError('options', `EventStore.connect needs { store, brokers?, ... }, got ${describeValue(input)}`);
  }
  const options = validateOptions(input);
  validateStoreName(options.store);
  // The environment's security applies only when the code gives none.
  const environment = options.kafka === undefined ? securityFromEnvironment() : undefined;
  const security = options.kafka === undefined ? validateKafkaSecurity(environment?.options, 'kafka (from the KAFKA_* environment)') : validateKafkaSecurity(options.kafka, 'kafka');
  const brokers = options.brokers === undefined ? (brokersFromEnvironment() ?? environment?.brokers) : (options.brokers as string[]);
  if (brokers === undefined) throw new InvalidArgumentError('brokers', 'give brokers or set KAFKA_BROKERS=host:port,...');
  validateBrokers(brokers, options.brokers === undefined ? 'KAFKA_BROKERS' : 'brokers');
  const partitions = integerOption(options.partitions, 'partitions', defaults.partitions, 1, 10_000);
  const replicationFactor = integerOption(options.replicationFactor, 'replicationFactor', defaults.replicationFactor, 1, 32);
  const writer = booleanOption(options.writer, 'writer', true);
  const settings = {
    appendTimeoutMs: integerOption(options.appendTimeoutMs, 'appendTimeoutMs', defaults.appendTimeoutMs, 1, maxTimeoutMs),
    maxEventBytes: integerOption(options.maxEventBytes, 'maxEventBytes', defaults.maxEventBytes, 1, 100_000_000),
    sessionTimeoutMs: integerOption(options.sessionTimeoutMs, 'sessionTimeoutMs', defaults.sessionTimeoutMs, 1, maxTimeoutMs),
    transactionTimeoutMs: integerOption(options.transactionTimeoutMs, 'transactionTimeoutMs', defaults.transactionTimeoutMs, 1, maxTimeoutMs),
    closeTimeoutMs: integerOption(options.closeTimeoutMs, 'closeTimeoutMs', defaults.closeTimeoutMs, 1, maxTimeoutMs),
    maxConcurrentTransactions: integerOption(options.maxConcurrentTransactions, 'maxConcurrentTransactions', 2 * availableParallelism(), 1, 10_000),
  };
  let dataDir: string;
  if (options.dataDir === undefined) dataDir = resolve(join('.scribe', options.store, `${hostname()}-${process.pid}`));
  else {
    if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) throw new InvalidArgumentError('dataDir', `must be a non-empty path, got ${describeValue(options.dataDir)}`);
    if (options.dataDir.includes('\u0000')) throw new InvalidArgumentError('dataDir', 'must not contain a NUL character');
    if (Buffer.byteLength(options.dataDir) > 4_000) throw new InvalidArgumentError('dataDir', 'is longer than 4000 bytes');
    dataDir = resolve(options.dataDir);
  }
  let existing: ReturnType<typeof statSync>;
  try {
    existing = statSync(dataDir, { throwIfNoEntry: false });
  } catch (error) {
    // A name too long for the file system, a component that is a file, no permission.
    throw new InvalidArgumentError('dataDir', `${JSON.stringify(dataDir)} cannot be used: ${messageOf(error)}`);
  }
  if (existing && !existing.isDirectory()) throw new InvalidArgumentError('dataDir', `${JSON.stringify(dataDir)} exists and is not a directory`);
  const schemas = schemasOption(options.schemas);
  const onUnknownEvent = oneOf(options.onUnknownEvent, 'onUnknownEvent', unknownEventPolicies, 'fail');
  let schemaRegistry: SchemaRegistryOptions | undefined;
  if (options.schemaRegistry !== undefined) {
    const registry = validateOptions(options.schemaRegistry, 'schemaRegistry');
    if (!schemas) throw new InvalidArgumentError('schemaRegistry', 'needs `schemas`: the event types to register');
    if (typeof registry.url !== 'string' || !URL.canParse(registry.url) || !/^https?:$/.test(new URL(registry.url).protocol)) {
      throw new InvalidArgumentError('schemaRegistry.url', `must be an http(s) URL, got ${describeValue(registry.url)}`);
    }
    const { compatibility } = registry;
    if (compatibility !== undefined) {
      if (typeof compatibility === 'string') oneOf(compatibility, 'schemaRegistry.compatibility', compatibilityLevels, 'BACKWARD');
      else {
        const perType = validateOptions(compatibility, 'schemaRegistry.compatibility');
        for (const [type, level] of Object.entries(perType)) oneOf(level, `schemaRegistry.compatibility.${type}`, compatibilityLevels, 'BACKWARD');
      }
    }
    if (registry.auth !== undefined) {
      const auth = validateOptions(registry.auth, 'schemaRegistry.auth');
      const secretOk = (value: unknown) => typeof value === 'string' && value.length > 0 && value.length <= 65_536;
      if ('token' in auth) {
        if (!secretOk(auth.token)) throw new InvalidArgumentError('schemaRegistry.auth.token', 'must be a non-empty string');
      } else {
        if (typeof auth.username !== 'string' || auth.username.length === 0) throw new InvalidArgumentError('schemaRegistry.auth.username', `must be a non-empty string, got ${describeValue(auth.username)}`);
        if (!secretOk(auth.password)) throw new InvalidArgumentError('schemaRegistry.auth.password', 'must be a non-empty string (basic auth), or give { token } for a bearer token');
      }
    }
    if (registry.tls !== undefined) {
      const tls = validateOptions(registry.tls, 'schemaRegistry.tls');
      for (const key of ['ca', 'cert', 'key'] as const) {
        const value = tls[key];
        if (value !== undefined && (typeof value !== 'string' || value.length === 0)) throw new InvalidArgumentError(`schemaRegistry.tls.${key}`, 'must be a file name or PEM text');
        if (typeof value === 'string' && !value.trimStart().startsWith('-----BEGIN ') && !existsSync(value)) throw new InvalidArgumentError(`schemaRegistry.tls.${key}`, `${JSON.stringify(value)} does not exist`);
      }
      if (tls.verifyHostname !== undefined && typeof tls.verifyHostname !== 'boolean') throw new InvalidArgumentError('schemaRegistry.tls.verifyHostname', `must be true or false, got ${describeValue(tls.verifyHostname)}`);
    }
    schemaRegistry = registry as unknown as SchemaRegistryOptions;
  }
  let clientId = `scribe-${options.store}`;
  if (options.clientId !== undefined) {
    validateName(options.clientId, 'clientId', 200);
    clientId = options.clientId;
  }
  const log = functionOption<(line: string) => void>(options.log, 'log');
  const listeners = validateListeners(options.on);
  const tracing = options.tracing as StoreTracing | undefined;
  if (tracing !== undefined && (typeof tracing !== 'object' || tracing === null || typeof tracing.bind !== 'function')) {
    throw new InvalidArgumentError('tracing', `must be a tracing (openTelemetryTracing() from scribe/opentelemetry), got ${describeValue(tracing)}`);
  }
  const kafkaStatisticsIntervalMs = options.kafkaStatisticsIntervalMs === undefined ? undefined : integerOption(options.kafkaStatisticsIntervalMs, 'kafkaStatisticsIntervalMs', 0, 100, 86_400_000);
  return { store: options.store, brokers: [...brokers], partitions, replicationFactor, writer, dataDir, settings, schemas, onUnknownEvent, schemaRegistry, clientId, security, log, listeners, tracing, kafkaStatisticsIntervalMs };
}

/** `on`: a function or an array of functions. */
function validateListeners(on: unknown): StoreListener[] {
  if (on === undefined) return [];
  if (typeof on === 'function') return [on as StoreListener];
  if (!Array.isArray(on)) throw new InvalidArgumentError('on', `must be a function or an array of functions, got ${describeValue(on)}`);
  // Array.from reads a sparse array's holes as undefined: refused like any other non-function.
  return Array.from(on as unknown[], (listener, i) => {
    if (typeof listener !== 'function') throw new InvalidArgumentError(`on[${i}]`, `must be a function, got ${describeValue(listener)}`);
    return listener as StoreListener;
  });
}
