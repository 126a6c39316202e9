// A promise-based producer over librdkafka: each send resolves with its delivery report,
// every transactional call is bounded, and errors come out classified.
import rdkafka, { type DeliveryReport, type LibrdKafkaError, type MessageHeader } from '@confluentinc/kafka-javascript';
import { withTimeout } from '../errors.js';
import { baseConfig, type KafkaConnection } from './config.js';
import { refreshTopicMetadata } from './metadata.js';
import { kafkaError, kafkaErrorCodes, KafkaOperationError } from './errors.js';

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

export class KafkaProducer {
  private closed = false;

  private constructor(
    private readonly client: rdkafka.Producer,
    readonly transactional: boolean,
  ) {
    client.on('delivery-report', (error: LibrdKafkaError | null, report: DeliveryReport) => {
      const pending = report.opaque as PendingDelivery | undefined;
      if (!pending) return;
      if (error) pending.reject(kafkaError('produce', error));
      else pending.resolve({ topic: report.topic, partition: report.partition, offset: report.offset });
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
      ...(options.transactionalId
        ? {
            'transactional.id': options.transactionalId,
            'transaction.timeout.ms': transactionTimeoutMs,
            // Must stay below the transaction timeout (librdkafka's rule), so a stuck
            // record fails before the coordinator aborts its transaction.
            'message.timeout.ms': Math.max(1000, transactionTimeoutMs - 1000),
          }
        : {}),
      ...options.overrides,
    };
    const client = new rdkafka.Producer(config);
    await withTimeout(
      'producer connect',
      timeoutMs,
      new Promise<void>((resolve, reject) => {
        client.connect({ timeout: timeoutMs }, (error) => (error ? reject(kafkaError('producer connect', error)) : resolve()));
      }),
    ).catch((error: unknown) => {
      client.disconnect();
      throw error;
    });
    client.setPollInBackground(true);
    return new KafkaProducer(client, options.transactionalId !== undefined);
  }

  /** Queues one record; resolves when the broker acknowledged it (acks=all). */
  send(record: OutgoingRecord): Promise<DeliveredRecord> {
    return new Promise<DeliveredRecord>((resolve, reject) => {
      this.produceWithBackpressure(record, { resolve, reject }, Date.now());
    });
  }

  private produceWithBackpressure(record: OutgoingRecord, pending: PendingDelivery, since: number): void {
    if (this.closed) {
      pending.reject(new KafkaOperationError('produce', { message: 'producer is closed', code: kafkaErrorCodes.ERR__STATE, errno: 0, origin: 'scribe' }));
      return;
    }
    try {
      this.client.produce(record.topic, record.partition ?? -1, record.value, record.key, Date.now(), pending, record.headers);
    } catch (error) {
      // The local queue is full: wait for deliveries to drain it rather than failing the caller.
      if ((error as LibrdKafkaError).code === kafkaErrorCodes.ERR__QUEUE_FULL && Date.now() - since < 30_000) {
        setTimeout(() => this.produceWithBackpressure(record, pending, since), 2);
        return;
      }
      pending.reject(kafkaError('produce', error));
    }
  }

  /** Reads the topic's metadata now, so that partitions added since are known to `send`. */
  refreshMetadata(topic: string, timeoutMs = 5_000): Promise<void> {
    return refreshTopicMetadata(this.client, topic, timeoutMs);
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
    consumer: rdkafka.KafkaConsumer,
    timeoutMs: number,
  ): Promise<void> {
    // The binding dereferences the consumer's native handle without a check: a disconnected
    // consumer would crash the process (SIGSEGV), so refuse here instead.
    if (!consumer.isConnected()) {
      return Promise.reject(
        new KafkaOperationError('sendOffsetsToTransaction', { message: 'the group consumer is disconnected', code: kafkaErrorCodes.ERR__STATE, errno: 0, origin: 'scribe' }),
      );
    }
    return this.call('sendOffsetsToTransaction', timeoutMs, (done) =>
      this.client.sendOffsetsToTransaction(offsets, consumer, timeoutMs, done),
    );
  }

  async disconnect(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.setPollInBackground(false);
    await withTimeout(
      'producer disconnect',
      timeoutMs,
      new Promise<void>((resolve) => this.client.disconnect(timeoutMs, () => resolve())),
    ).catch(() => undefined);
  }

  private call(operation: string, timeoutMs: number, start: (done: (error: LibrdKafkaError | null) => void) => void): Promise<void> {
    // Scribe's bound sits a little above librdkafka's own so that librdkafka's classified
    // timeout error wins when it does answer.
    return withTimeout(
      operation,
      timeoutMs + 2_000,
      new Promise<void>((resolve, reject) => {
        start((error) => (error ? reject(kafkaError(operation, error)) : resolve()));
      }),
    );
  }
}
