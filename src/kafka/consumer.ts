// A promise-based consumer over librdkafka: bounded batch polls, explicit assignment and
// seeking, and group membership with assignment callbacks.
import rdkafka, { type LibrdKafkaError, type Message, type TopicPartition } from '@confluentinc/kafka-javascript';
import { withTimeout } from '../errors.js';
import { baseConfig, type KafkaConnection } from './config.js';
import { refreshTopicMetadata } from './metadata.js';
import { kafkaError, kafkaErrorCodes } from './errors.js';

export type { Message as KafkaMessage } from '@confluentinc/kafka-javascript';

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface RebalanceListener {
  /** Called after the partitions were assigned to this member. */
  assigned(partitions: TopicPartition[]): void;
  /** Called before the partitions are taken away from this member. */
  revoked(partitions: TopicPartition[]): void;
}

export interface ConsumerOptions extends KafkaConnection {
  /** Group to join with `subscribe`; a consumer that only uses `assign` may omit it. */
  readonly groupId?: string;
  /** Default `read_committed`: Scribe never shows records of an open or aborted transaction. */
  readonly isolation?: 'read_committed' | 'read_uncommitted';
  readonly sessionTimeoutMs?: number;
  readonly rebalance?: RebalanceListener;
  /** Where to start when the group has no committed offset. */
  readonly startFrom?: 'earliest' | 'latest';
  readonly overrides?: Record<string, string | number | boolean>;
}

/** Present at run time, missing from the library's type declarations. */
interface IncrementalAssignment {
  incrementalAssign(partitions: TopicPartition[] | { topic: string; partition: number; offset: number }[]): void;
  incrementalUnassign(partitions: TopicPartition[]): void;
}

function incremental(client: rdkafka.KafkaConsumer): IncrementalAssignment {
  return client as unknown as IncrementalAssignment;
}

export class KafkaConsumer {
  private closed = false;

  private constructor(readonly client: rdkafka.KafkaConsumer) {}

  static async connect(options: ConsumerOptions, timeoutMs = 30_000): Promise<KafkaConsumer> {
    const listener = options.rebalance;
    const config: Record<string, unknown> = {
      ...baseConfig(options, 'consumer'),
      // librdkafka requires a group id even for assign-only consumers; such a group never joins.
      'group.id': options.groupId ?? `scribe-reader-${process.pid}-${Math.random().toString(36).slice(2)}`,
      'isolation.level': options.isolation ?? 'read_committed',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'enable.partition.eof': false,
      'session.timeout.ms': options.sessionTimeoutMs ?? 10_000,
      'heartbeat.interval.ms': Math.max(100, Math.floor((options.sessionTimeoutMs ?? 10_000) / 4)),
      'fetch.wait.max.ms': 50,
      ...options.overrides,
    };
    if (listener) {
      // librdkafka waits for the (incremental) assign or unassign from this callback, so the
      // listener runs before the partitions change hands. With the cooperative protocol the
      // lists hold only the partitions that move: the others keep their writers.
      config.rebalance_cb = function (this: rdkafka.KafkaConsumer, error: LibrdKafkaError, assignment: TopicPartition[]) {
        const cooperative = (this as unknown as { rebalanceProtocol(): string }).rebalanceProtocol() === 'COOPERATIVE';
        if (error.code === kafkaErrorCodes.ERR__ASSIGN_PARTITIONS) {
          if (cooperative) incremental(this).incrementalAssign(assignment);
          else this.assign(assignment);
          listener.assigned(assignment);
        } else if (error.code === kafkaErrorCodes.ERR__REVOKE_PARTITIONS) {
          listener.revoked(assignment);
          if (cooperative) incremental(this).incrementalUnassign(assignment);
          else this.unassign();
        }
      };
    }
    const consumer = new rdkafka.KafkaConsumer(config as rdkafka.ConsumerGlobalConfig, {
      // A topic-level setting: librdkafka ignores it in the global config when a topic config is given.
      'auto.offset.reset': options.startFrom ?? 'earliest',
    });
    await withTimeout(
      'consumer connect',
      timeoutMs,
      new Promise<void>((resolve, reject) => {
        consumer.connect({ timeout: timeoutMs }, (error) => (error ? reject(kafkaError('consumer connect', error)) : resolve()));
      }),
    ).catch((error: unknown) => {
      consumer.disconnect();
      throw error;
    });
    return new KafkaConsumer(consumer);
  }

  subscribe(topics: string[]): void {
    this.client.subscribe(topics);
  }

  /** Reads exactly these partitions from these offsets, outside any group. */
  assign(partitions: PartitionOffset[]): void {
    this.client.assign(partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })));
  }

  /**
   * Adds partitions to a manual assignment, leaving the others undisturbed. Replacing the
   * whole assignment while partitions are still starting trips an assertion in librdkafka
   * (rd_kafka_assignment_partition_stopped), so followers grow and shrink incrementally.
   */
  addPartitions(partitions: PartitionOffset[]): void {
    incremental(this.client).incrementalAssign(partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })));
  }

  removePartitions(partitions: { topic: string; partition: number }[]): void {
    incremental(this.client).incrementalUnassign(partitions);
  }

  /** Reads the topic's metadata now, so that partitions added since can be assigned and fetched. */
  refreshMetadata(topic: string, timeoutMs = 5_000): Promise<void> {
    return refreshTopicMetadata(this.client, topic, timeoutMs);
  }

  /** Up to `max` records; waits at most `waitMs` when none is available. */
  consume(max: number, waitMs: number): Promise<Message[]> {
    this.client.setDefaultConsumeTimeout(waitMs);
    return withTimeout(
      'consume',
      waitMs + 10_000,
      new Promise<Message[]>((resolve, reject) => {
        this.client.consume(max, (error, messages) => (error ? reject(kafkaError('consume', error)) : resolve(messages)));
      }),
    );
  }

  /** Offsets of the group's last commit for these partitions (-1001 when none). */
  committed(partitions: TopicPartition[], timeoutMs: number): Promise<PartitionOffset[]> {
    return withTimeout(
      'committed',
      timeoutMs + 2_000,
      new Promise<PartitionOffset[]>((resolve, reject) => {
        this.client.committed(partitions, timeoutMs, (error, result) =>
          error ? reject(kafkaError('committed', error)) : resolve(result.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset }))),
        );
      }),
    );
  }

  /** Moves the consumer's position on an assigned partition. */
  seek(position: PartitionOffset, timeoutMs: number): Promise<void> {
    return withTimeout(
      'seek',
      timeoutMs + 2_000,
      new Promise<void>((resolve, reject) => {
        this.client.seek({ topic: position.topic, partition: position.partition, offset: position.offset }, timeoutMs, (error) =>
          error ? reject(kafkaError('seek', error)) : resolve(),
        );
      }),
    );
  }

  commit(offsets: PartitionOffset[]): void {
    this.client.commitSync(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
  }

  async disconnect(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await withTimeout(
      'consumer disconnect',
      timeoutMs,
      new Promise<void>((resolve) => this.client.disconnect(() => resolve())),
    ).catch(() => undefined);
  }
}
