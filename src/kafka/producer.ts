// A promise-based producer over librdkafka: each send resolves with its delivery report,
// every transactional call is bounded, and errors come out classified.
import rdkafka, { type DeliveryReport, type LibrdKafkaError, type MessageHeader } from '@confluentinc/kafka-javascript';
import { baseConfig, forwardStatistics, statisticsConfig, type KafkaConnection } from './config.js';
import type { KafkaConsumer } from './consumer.js';
import { refreshTopicMetadata } from './metadata.js';
import { AuthorizationError, kafkaError, kafkaErrorCodes } from './errors.js';
import { NativeClient } from './native-client.js';
import { securityWatch } from './security-watch.js';

export interface OutgoingRecord {
  readonly topic: string;
  /** Explicit partition; when absent librdkafka's murmur2 partitioner picks one from the key. */
  readonly partition?: number;
  readonly key: string | Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: MessageHeader[];
}

export interface DeliveredRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface ProducerOptions extends KafkaConnection {
  /** Turns on transactions; implies idempotence. */
  readonly transactionalId?: string;
  /** Coordinator-side bound on an open transaction; keep short so a paused owner is aborted fast. */
  readonly transactionTimeoutMs?: number;
  /** librdkafka settings that override Scribe's defaults. */
  readonly overrides?: Record<string, string | number | boolean>;
}

interface PendingDelivery {
  resolve(record: DeliveredRecord): void;
  reject(error: unknown): void;
}

const defaultTransactionTimeoutMs = 10_000;
/** How long a fatal produce waits for librdkafka's log line that says why. */
const fatalCauseWaitMs = 2_000;
/** A record that fails with these never left the client: fatal before sending, purged from the queue. */
const notSentCodes = new Set<number>([kafkaErrorCodes.ERR__FATAL, kafkaErrorCodes.ERR__PURGE_QUEUE]);

const idleConnectionMs = 15_000;

export class KafkaProducer {
  private constructor(
    private readonly client: rdkafka.Producer,
    private readonly native: NativeClient,
    private readonly transactionalId: string | undefined,
    private readonly fatal: FatalCause,
  ) {
    client.on('delivery-report', (error: LibrdKafkaError | null, report: DeliveryReport) => {
      const pending = report.opaque as PendingDelivery | undefined;
      if (!pending) return;
      if (!error) pending.resolve({ topic: report.topic, partition: report.partition, offset: report.offset });
      else if (this.transactional || !notSentCodes.has(error.code)) pending.reject(kafkaError('produce', error, { TOPIC: report.topic }));
      else void this.fatalProduceError(error, report.topic).then((classified) => pending.reject(classified));
    });
  }

  static async connect(options: ProducerOptions, timeoutMs = 30_000): Promise<KafkaProducer> {
    const transactionTimeoutMs = options.transactionTimeoutMs ?? defaultTransactionTimeoutMs;
    const config: Record<string, string | number | boolean> = {
      ...baseConfig(options, options.transactionalId ? 'txn-producer' : 'producer'),
      'enable.idempotence': true,
      acks: 'all',
      dr_cb: true,
      'linger.ms': 5,
      ...statisticsConfig(options),
      ...(options.transactionalId
        ? {
            'transactional.id': options.transactionalId,
            'transaction.timeout.ms': transactionTimeoutMs,
            // Must stay below the transaction timeout (librdkafka's rule), so a stuck
            // record fails before the coordinator aborts its transaction.
            'message.timeout.ms': Math.max(1000, transactionTimeoutMs - 1000),
            // librdkafka #5456/#5511: sendOffsetsToTransaction waits for ever on a group
            // coordinator whose broker left the metadata, until some broker connection changes
            // state. A producer parked with that call running is idle: closing its idle
            // connections is the change that lets the call end (docs/decisions/0007-native-calls.md).
            'connections.max.idle.ms': idleConnectionMs,
          }
        : {}),
      ...options.overrides,
    };
    const client = new rdkafka.Producer(config);
    forwardStatistics(options, client);
    const fatal = new FatalCause();
    client.on('event.log', (entry: { fac?: string; message?: string }) => {
      if (entry.fac === 'FATAL') fatal.saw(String(entry.message));
    });
    const name = `producer ${String(config['client.id'])}`;
    const security = securityWatch(name, options.security);
    security?.watch(client);
    const native = new NativeClient(name, security);
    try {
      await native.call<void>('producer connect', timeoutMs + 2_000, (done) => client.connect({ timeout: timeoutMs }, (error) => done(error)));
    } catch (error) {
      void native.close(() => disconnectProducer(client, 0), 0, 5_000);
      throw error;
    }
    client.setPollInBackground(true);
    return new KafkaProducer(client, native, options.transactionalId, fatal);
  }

  get transactional(): boolean {
    return this.transactionalId !== undefined;
  }

  /** Queues one record; resolves when the broker acknowledged it (acks=all). */
  send(record: OutgoingRecord): Promise<DeliveredRecord> {
    return new Promise<DeliveredRecord>((resolve, reject) => {
      this.produceWithBackpressure(record, { resolve, reject }, Date.now());
    });
  }

  private produceWithBackpressure(record: OutgoingRecord, pending: PendingDelivery, since: number): void {
    try {
      this.native.sync('produce', () => this.client.produce(record.topic, record.partition ?? -1, record.value, record.key, Date.now(), pending, record.headers));
    } catch (error) {
      // The local queue is full: wait for deliveries to drain it rather than failing the caller.
      if ((error as { kafkaCode?: number }).kafkaCode === kafkaErrorCodes.ERR__QUEUE_FULL && Date.now() - since < 30_000) {
        setTimeout(() => this.produceWithBackpressure(record, pending, since), 2);
        return;
      }
      if (this.transactional || (error as { kafkaCode?: number }).kafkaCode !== kafkaErrorCodes.ERR__FATAL) return pending.reject(error);
      void this.fatalProduceError({ message: 'Local: Fatal error', code: kafkaErrorCodes.ERR__FATAL }, record.topic).then((classified) => pending.reject(classified));
    }
  }

  /**
   * The produce error of an idempotent producer's record that never left it (fatal, -150, or
   * purged from the queue after a fatal error, -152), with the fatal error's cause. A producer the
   * broker refused an id has the cause only in librdkafka's log: without a producer id nothing
   * was ever sent, so the refusal is definite and, when it is an authorization failure, an
   * AuthorizationError naming the topic and WRITE (KIP-679: WRITE on a topic is what an
   * idempotent producer needs). Transactional producers keep their path (the writer's classifier).
   */
  private async fatalProduceError(error: { message: string; code: number }, topic: string): Promise<Error> {
    // The produce learns of the fatal state at once, the log line comes through the event queue;
    // a record purged from the queue (never sent) may have been purged by a disconnect instead.
    const cause = await this.fatal.known(error.code === kafkaErrorCodes.ERR__FATAL ? fatalCauseWaitMs : 250);
    if (cause !== undefined && /acquire (idempotence )?PID/i.test(cause)) {
      const refusal = /(Cluster|Topic|Transactional Id) authorization failed/i.exec(cause);
      if (refusal) {
        const kafkaCode = /cluster/i.test(refusal[1]!) ? kafkaErrorCodes.ERR_CLUSTER_AUTHORIZATION_FAILED : /topic/i.test(refusal[1]!) ? kafkaErrorCodes.ERR_TOPIC_AUTHORIZATION_FAILED : kafkaErrorCodes.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        const detail = `the broker refused this producer an id (${refusal[0]}), so nothing was sent; an idempotent producer needs WRITE on a topic (KIP-679)`;
        return new AuthorizationError('produce', { message: cause, code: kafkaCode, errno: kafkaCode, origin: 'broker' }, 'TOPIC', 'WRITE', topic, detail);
      }
    }
    return kafkaError('produce', { ...error, message: cause === undefined ? error.message : `${error.message} (${cause})` }, { TOPIC: topic });
  }

  /** Reads the topic's metadata now, so that partitions added since are known to `send`. */
  refreshMetadata(topic: string, timeoutMs = 5_000): Promise<void> {
    return refreshTopicMetadata(this.client, this.native, topic, timeoutMs);
  }

  initTransactions(timeoutMs: number): Promise<void> {
    return this.call('initTransactions', timeoutMs, (done) => this.client.initTransactions(timeoutMs, done));
  }

  beginTransaction(): Promise<void> {
    return this.call('beginTransaction', 5_000, (done) => this.client.beginTransaction(done));
  }

  commitTransaction(timeoutMs: number): Promise<void> {
    return this.call('commitTransaction', timeoutMs, (done) => this.client.commitTransaction(timeoutMs, done));
  }

  abortTransaction(timeoutMs: number): Promise<void> {
    return this.call('abortTransaction', timeoutMs, (done) => this.client.abortTransaction(timeoutMs, done));
  }

  /** Adds consumer offsets to the open transaction with the consumer's group metadata (KIP-447). */
  sendOffsetsToTransaction(
    offsets: { topic: string; partition: number; offset: number }[],
    consumer: KafkaConsumer,
    timeoutMs: number,
  ): Promise<void> {
    // The binding reads the consumer's native handle from its worker thread without a check:
    // the consumer stays alive (and refuses to close) until this call has returned.
    return consumer.withGroupMetadata((handle, native) =>
      this.call('sendOffsetsToTransaction', timeoutMs, (done) => this.client.sendOffsetsToTransaction(offsets, handle, timeoutMs, done), [native]),
    );
  }

  /**
   * Flushes and destroys the producer once no call on it runs. Resolves within about
   * `timeoutMs` even when a call hangs (the producer is then destroyed when it returns).
   */
  async disconnect(timeoutMs = 10_000): Promise<void> {
    await this.native.close(() => disconnectProducer(this.client, timeoutMs), timeoutMs, timeoutMs + 5_000);
  }

  private call(operation: string, timeoutMs: number, start: (done: (error: LibrdKafkaError | null) => void) => void, alsoUses: NativeClient[] = []): Promise<void> {
    // Scribe's bound sits a little above librdkafka's own so that librdkafka's classified
    // timeout error wins when it does answer.
    return this.native.call<void>(operation, timeoutMs + 2_000, (done) => start((error) => done(error)), alsoUses, this.transactionalId === undefined ? undefined : { TRANSACTIONAL_ID: this.transactionalId });
  }
}

/** A client whose connect failed was already disconnected by the binding. */
function disconnectProducer(client: rdkafka.Producer, flushMs: number): Promise<void> {
  if (!client.isConnected()) return Promise.resolve();
  client.setPollInBackground(false);
  return new Promise<void>((resolve) => client.disconnect(flushMs, () => resolve()));
}

/**
 * librdkafka's FATAL log line (level 0, whatever log_level says): the only place that says why a
 * producer became unusable; -150 and the 'event.error' that follows carry no cause.
 */
class FatalCause {
  private cause: string | undefined;
  private readonly waiters = new Set<(cause: string) => void>();

  saw(message: string): void {
    if (this.cause !== undefined) return;
    this.cause = message;
    for (const wake of this.waiters) wake(message);
    this.waiters.clear();
  }

  /** The cause, waiting up to `ms` for it. */
  known(ms: number): Promise<string | undefined> {
    if (this.cause !== undefined) return Promise.resolve(this.cause);
    return new Promise((resolve) => {
      const wake = (cause: string | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(wake as (cause: string) => void);
        resolve(cause);
      };
      const timer = setTimeout(() => wake(undefined), ms);
      this.waiters.add(wake as (cause: string) => void);
    });
  }
}
