// Every process's copy of the routing table: it reads `<store>.routing` (one compacted
// partition, read_committed) from the start and follows it, so that routing changes committed
// by owners (seals, opens) and by `grow` (generations) reach every process.
import { withTimeout } from '../errors.js';
import { KafkaConsumer, KafkaProducer, type KafkaAdmin, type KafkaConnection } from '../kafka/index.js';
import { decodeRoutingEntry, encodeGeneration, type RoutingEntry } from './routing-record.js';
import { RoutingTable, type ShardMove } from './routing.js';

export type RoutingListener = (entry: RoutingEntry) => void;

export class RoutingLog {
  readonly table = new RoutingTable();
  private readonly listeners = new Set<RoutingListener>();
  /** The first offset of the routing topic not applied yet. */
  private next = 0;
  private readonly waiters = new Set<{ offset: number; resolve(): void }>();
  private running = true;
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly consumer: KafkaConsumer,
    private readonly admin: KafkaAdmin,
    readonly topic: string,
    private readonly connection: KafkaConnection,
  ) {}

  /**
   * Reads the routing log to its end. A store without one (created before growth existed,
   * or just now) gets generation 0: the partition count its events topic has.
   */
  static async open(connection: KafkaConnection, admin: KafkaAdmin, topic: string, eventsPartitions: () => Promise<number>): Promise<RoutingLog> {
    const consumer = await KafkaConsumer.connect({ ...connection, isolation: 'read_committed', overrides: { 'fetch.wait.max.ms': 20 } });
    consumer.addPartitions([{ topic, partition: 0, offset: 0 }]);
    const log = new RoutingLog(consumer, admin, topic, connection);
    log.loop = log.run();
    try {
      await log.caughtUp();
      if (!log.table.known) {
        // Concurrent first connects write the same record; compaction keeps one.
        await log.write([encodeGeneration(0, await eventsPartitions())]);
        await log.caughtUp();
      }
    } catch (error) {
      // A connect that fails here leaves no consumer behind.
      await log.stop().catch(() => undefined);
      throw error;
    }
    return log;
  }

  /** Resolves once every routing change committed before this call is applied here; bounded like every wait on Kafka. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const end = (await this.admin.endOffsets(this.topic, [0], 'read_committed')).get(0) ?? 0;
    if (this.next >= end) return;
    const waiter = { offset: end, resolve: () => undefined };
    try {
      await withTimeout(`reading the routing log ${this.topic} up to offset ${end}`, timeoutMs, new Promise<void>((resolve) => this.waiters.add(Object.assign(waiter, { resolve }))));
    } finally {
      this.waiters.delete(waiter);
    }
  }

  /** Calls `listener` with every routing change applied from now on. */
  onChange(listener: RoutingListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits until the move is recorded in the state given (or a later one), or the time is up. */
  async waitForMove(generation: number, from: number, to: number, state: ShardMove['state'], timeoutMs: number): Promise<ShardMove | undefined> {
    const reached = () => {
      const move = this.table.move(generation, from, to);
      return move && (state === 'sealed' || move.state === 'open') ? move : undefined;
    };
    const found = reached();
    if (found) return found;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        unsubscribe();
        resolve(undefined);
      }, timeoutMs);
      const unsubscribe = this.onChange(() => {
        const move = reached();
        if (!move) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(move);
      });
    });
  }

  /** Writes routing records outside any owner's transaction (generations). */
  async write(records: { key: string; value: Buffer }[]): Promise<void> {
    const producer = await KafkaProducer.connect(this.connection);
    try {
      await Promise.all(records.map((record) => producer.send({ topic: this.topic, partition: 0, ...record })));
    } finally {
      await producer.disconnect();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.consumer.disconnect();
  }

  /** Applies a change read from the log, or one this process committed itself (without waiting for the log to echo it). */
  apply(entry: RoutingEntry): void {
    if (entry.kind === 'generation') this.table.addGeneration(entry.generation, entry.partitions);
    else this.table.addMove(entry.move);
    for (const listener of this.listeners) listener(entry);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.consumer.consume(500, 100);
        for (const message of messages) {
          const entry = decodeRoutingEntry(message);
          if (entry) this.apply(entry);
          this.next = message.offset + 1;
        }
        // Transaction markers take offsets too and are never delivered.
        const [position] = this.consumer.positions([{ topic: this.topic, partition: 0 }]);
        if (position && position.offset > this.next) this.next = position.offset;
        for (const waiter of this.waiters) {
          if (this.next >= waiter.offset) {
            this.waiters.delete(waiter);
            waiter.resolve();
          }
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}
