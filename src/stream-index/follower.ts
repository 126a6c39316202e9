// Keeps the index up to date with partitions this process does not write: a read_committed
// consumer that applies every committed event (and snapshot) to the index and moves its
// checkpoints, so that a read can wait until the index holds everything committed before it
// started.
import { KafkaConsumer, type KafkaConnection } from '../kafka/index.js';
import { storedEventFrom, type StoredEvent } from '../records/event-record.js';
import { storedSnapshotFrom, type StoredSnapshot } from '../records/snapshot-record.js';
import type { StoreEvent } from '../instrumentation/store-events.js';
import type { StreamIndex } from './stream-index.js';

interface Waiter {
  readonly partition: number;
  readonly offset: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class IndexFollower {
  private readonly followed = new Set<number>();
  private readonly waiters = new Set<Waiter>();
  private running = true;
  private loop: Promise<void> | undefined;
  private failure: unknown;

  private constructor(
    private readonly consumer: KafkaConsumer,
    private readonly topics: { readonly events: string; readonly snapshots: string },
    private readonly index: StreamIndex,
    private readonly instrument: (event: StoreEvent) => void,
  ) {}

  static async start(
    connection: KafkaConnection,
    topics: { events: string; snapshots: string },
    index: StreamIndex,
    instrument: (event: StoreEvent) => void = () => undefined,
  ): Promise<IndexFollower> {
    const consumer = await KafkaConsumer.connect({ ...connection, isolation: 'read_committed', overrides: { 'fetch.wait.max.ms': 20 } });
    const follower = new IndexFollower(consumer, topics, index, instrument);
    follower.loop = follower.run();
    return follower;
  }

  /** Starts applying the partition from the index's checkpoint. */
  follow(partition: number): void {
    if (this.followed.has(partition)) return;
    this.followed.add(partition);
    // Positions come from the index, never from the consumer's memory: what is applied is what counts.
    this.consumer.addPartitions([
      { topic: this.topics.events, partition, offset: this.index.checkpoint(partition) },
      { topic: this.topics.snapshots, partition, offset: this.index.snapshotCheckpoint(partition) },
    ]);
  }

  /** Stops applying the partition (its owner now writes the index itself). */
  unfollow(partition: number): void {
    // After stop() the consumer is gone, and with it what it followed: a writer giving up late has nothing to undo.
    if (!this.followed.delete(partition) || !this.running) return;
    this.consumer.removePartitions([
      { topic: this.topics.events, partition },
      { topic: this.topics.snapshots, partition },
    ]);
  }

  /** Resolves once the index holds the partition up to `offset` (exclusive). */
  caughtUp(partition: number, offset: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.index.checkpoint(partition) >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.add({ partition, offset, resolve, reject }));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.consumer.disconnect();
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.followed.size === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      try {
        const messages = await this.consumer.consume(2000, 50);
        const byPartition = new Map<number, StoredEvent[]>();
        const lastOffsets = new Map<number, number>();
        const snapshots = new Map<number, { found: StoredSnapshot[]; next: number }>();
        for (const message of messages) {
          if (!this.followed.has(message.partition)) continue;
          if (message.topic === this.topics.snapshots) {
            const read = snapshots.get(message.partition) ?? { found: [], next: 0 };
            const snapshot = storedSnapshotFrom(message);
            if (snapshot) read.found.push(snapshot);
            read.next = message.offset + 1;
            snapshots.set(message.partition, read);
            continue;
          }
          const event = storedEventFrom(message);
          if (event) {
            const list = byPartition.get(message.partition) ?? [];
            list.push(event);
            byPartition.set(message.partition, list);
          }
          lastOffsets.set(message.partition, message.offset + 1);
        }
        // Positions also move past transaction markers and aborted records, which are never delivered.
        const positions = this.consumer.positions([...this.followed].map((partition) => ({ topic: this.topics.events, partition })));
        for (const position of positions) {
          if (position.offset >= 0 && this.followed.has(position.partition)) {
            lastOffsets.set(position.partition, Math.max(position.offset, lastOffsets.get(position.partition) ?? 0));
          }
        }
        for (const [partition, next] of lastOffsets) {
          await this.index.apply(partition, byPartition.get(partition) ?? [], next);
        }
        // Snapshots only shorten loads, nobody waits for them: no marker bookkeeping needed.
        for (const [partition, read] of snapshots) await this.index.applySnapshots(partition, read.found, read.next);
        this.reportProgress(lastOffsets.keys());
        this.wake();
      } catch (error) {
        // Nobody may go on as if the index were complete: a writer would check versions
        // against a stale head.
        this.failure = error;
        for (const waiter of this.waiters) waiter.reject(error);
        this.waiters.clear();
        await new Promise((resolve) => setTimeout(resolve, 200));
        this.failure = undefined;
      }
    }
  }

  /** Progress towards what readers and writers wait for: per partition applied, how far from the furthest wait. */
  private reportProgress(applied: Iterable<number>): void {
    for (const partition of applied) {
      let target = -1;
      for (const waiter of this.waiters) if (waiter.partition === partition && waiter.offset > target) target = waiter.offset;
      if (target < 0) continue;
      const offset = this.index.checkpoint(partition);
      this.instrument({ type: 'index-caught-up', partition, offset, behind: Math.max(0, target - offset) });
    }
  }

  private wake(): void {
    for (const waiter of this.waiters) {
      if (this.index.checkpoint(waiter.partition) >= waiter.offset) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
