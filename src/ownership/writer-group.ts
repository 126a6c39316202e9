// Ownership of partitions: writer processes join the consumer group `<store>.writers` on
// `<store>.appends`, and owning appends partition p means owning events partition p. Each
// assignment starts a PartitionWriter (which fences the previous owner); each revocation
// closes one. Requests read from the appends topic are handed to their partition's writer.
import type { TopicPartition } from '@confluentinc/kafka-javascript';
import pLimit, { type LimitFunction } from 'p-limit';
import { KafkaConsumer, type KafkaConnection } from '../kafka/index.js';
import type { RoutingLog } from '../partitioning/routing-log.js';
import { pendingAppendOf, servedAnswer, type CommandRequest, type Envelope } from '../owner-protocol/messages.js';
import { decodeRequest } from '../owner-protocol/wire.js';
import type { StoreEvent } from '../instrumentation/store-events.js';
import type { IndexFollower } from '../stream-index/follower.js';
import type { StreamIndex } from '../stream-index/stream-index.js';
import { PartitionWriter, type RemoteOrigin } from '../writer/partition-writer.js';
import type { ProducerFactory } from '../writer/producer-factory.js';

/** The consumer group of a store's writer processes. */
export function writerGroupId(store: string): string {
  return `${store}.writers`;
}

export interface WriterGroupOptions {
  readonly connection: KafkaConnection;
  readonly store: string;
  readonly topics: { readonly events: string; readonly appends: string; readonly replies: string; readonly snapshots: string; readonly routing: string };
  readonly replyPartitions: number;
  readonly index: StreamIndex;
  readonly follower: IndexFollower;
  readonly routing: RoutingLog;
  readonly endOffset: (partition: number) => Promise<number>;
  readonly sessionTimeoutMs: number;
  readonly timeoutMs: number;
  readonly transactionTimeoutMs: number;
  readonly maxConcurrentTransactions: number;
  readonly maxBatch: number;
  readonly log: (line: string) => void;
  /** The writers' typed events (default: none). */
  readonly instrument?: (event: StoreEvent) => void;
  /** Creates each writer's producer (default: KafkaProducer.connect); fault tests inject faults here. */
  readonly producers?: ProducerFactory;
  /** Hands a command request (rather than events) to whoever runs commands in this process. */
  readonly onCommand: (request: CommandRequest & Envelope, writer: PartitionWriter, origin: RemoteOrigin) => void;
}

export class WriterGroup {
  private readonly writers = new Map<number, PartitionWriter>();
  private running = true;
  private loop: Promise<void> | undefined;
  private consumer!: KafkaConsumer;
  private stopFollowingRouting: () => void = () => undefined;
  /** Shared by this process's writers: see ConnectOptions.maxConcurrentTransactions. */
  private readonly transactionSlots: LimitFunction;

  private constructor(private readonly options: WriterGroupOptions) {
    this.transactionSlots = pLimit(options.maxConcurrentTransactions);
  }

  static async join(options: WriterGroupOptions): Promise<WriterGroup> {
    const group = new WriterGroup(options);
    group.consumer = await KafkaConsumer.connect({
      ...options.connection,
      groupId: writerGroupId(options.store),
      sessionTimeoutMs: options.sessionTimeoutMs,
      isolation: 'read_committed',
      rebalance: {
        assigned: (partitions) => group.assigned(partitions),
        revoked: (partitions) => group.revoked(partitions),
        failed: (error) => options.log(`writer group: a rebalance step failed: ${String(error)}`),
      },
      overrides: {
        'max.poll.interval.ms': Math.max(options.sessionTimeoutMs * 3, 30_000),
        // Partitions added by `grow` get owners within a second, before any shard moves to them.
        'topic.metadata.refresh.interval.ms': 1_000,
        // A member joining or leaving, or partitions added, moves only the partitions that
        // change owner: the other writers go on (docs/decisions/0005-online-growth.md).
        'partition.assignment.strategy': 'cooperative-sticky',
        // Members learn of a rebalance from a heartbeat's answer, and a cooperative rebalance
        // takes two rounds: frequent heartbeats keep a join or a leave to a second or two.
        'heartbeat.interval.ms': Math.max(100, Math.min(1_000, Math.floor(options.sessionTimeoutMs / 20))),
      },
    });
    // A shard sealed for a partition owned here is opened by its writer.
    group.stopFollowingRouting = options.routing.onChange((entry) => {
      if (entry.kind === 'move' && entry.move.state === 'sealed') group.writers.get(entry.move.to)?.openShard(entry.move);
    });
    group.consumer.subscribe([options.topics.appends]);
    group.loop = group.run();
    return group;
  }

  /** This process's writer for the partition, if it owns it. */
  writerFor(partition: number): PartitionWriter | undefined {
    const writer = this.writers.get(partition);
    return writer?.accepting ? writer : undefined;
  }

  ownedPartitions(): number[] {
    return [...this.writers.keys()].sort((a, b) => a - b);
  }

  /** Leaves the group: partitions are revoked (writers close) and handed to the other members. */
  async leave(): Promise<void> {
    this.running = false;
    this.stopFollowingRouting();
    await this.loop;
    // Writers first: a transaction in flight still needs the consumer's group metadata.
    const writers = [...this.writers.values()];
    this.writers.clear();
    await Promise.all(writers.map((writer) => writer.close()));
    await this.consumer.disconnect();
  }

  private assigned(partitions: TopicPartition[]): void {
    for (const { partition } of partitions) this.startWriter(partition);
    if (partitions.length > 0) this.options.instrument?.({ type: 'ownership-gained', partitions: partitions.map((p) => p.partition) });
  }

  private revoked(partitions: TopicPartition[]): void {
    for (const { partition } of partitions) {
      const writer = this.writers.get(partition);
      this.writers.delete(partition);
      void writer?.close();
    }
    if (partitions.length > 0) this.options.instrument?.({ type: 'ownership-lost', partitions: partitions.map((p) => p.partition) });
  }

  private startWriter(partition: number): void {
    const writer = new PartitionWriter({
      ...this.options,
      partition,
      groupConsumer: this.consumer,
      transactionSlots: this.transactionSlots,
      onFailure: (p, error) => this.writerFailed(p, writer, error),
    });
    this.writers.set(partition, writer);
  }

  /**
   * A writer that was fenced or could not start gives up. If the group still assigns the
   * partition here once a session timeout has passed (a coordinator-side transaction timeout,
   * KIP-588, looks like fencing), a new writer takes over and requests are read again from
   * the last committed offset (KAFKA-17582: nothing rewinds on its own).
   */
  private writerFailed(partition: number, writer: PartitionWriter, error: unknown): void {
    this.options.log(`partition ${partition}: writer stopped: ${String(error)}`);
    setTimeout(() => {
      if (!this.running || this.writers.get(partition) !== writer) return;
      const assigned = this.consumer.assignments().some((a) => a.partition === partition);
      this.writers.delete(partition);
      if (!assigned) return;
      void this.rewind(partition).then(() => {
        if (this.running && !this.writers.has(partition)) this.startWriter(partition);
      });
    }, this.options.sessionTimeoutMs).unref();
  }

  private async rewind(partition: number): Promise<void> {
    const topic = this.options.topics.appends;
    try {
      const [committed] = await this.consumer.committed([{ topic, partition }], this.options.timeoutMs);
      await this.consumer.seek({ topic, partition, offset: committed && committed.offset >= 0 ? committed.offset : 0 }, this.options.timeoutMs);
    } catch (error) {
      this.options.log(`partition ${partition}: could not rewind the appends topic: ${String(error)}`);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      let messages;
      try {
        messages = await this.consumer.consume(1000, 50);
      } catch (error) {
        this.options.log(`writer group: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      for (const message of messages) {
        const writer = this.writers.get(message.partition);
        const request = decodeRequest(message);
        if (!writer || !request) continue;
        const remote: RemoteOrigin = { requester: request.requester, requestId: request.requestId, offset: message.offset, deadline: request.deadline };
        switch (request.kind) {
          case 'seal':
            // The requester learns the outcome from the reply (or, failing that, from the routing log).
            writer.sealShard(request.generation, request.to, remote).catch(() => undefined);
            break;
          case 'command':
            this.options.onCommand(request, writer, remote);
            break;
          case 'append':
            // The requester learns the outcome from the reply the writer commits.
            writer.enqueue(pendingAppendOf(request, servedAnswer(request, message.partition, this.options.instrument), remote));
            break;
        }
      }
    }
  }
}
