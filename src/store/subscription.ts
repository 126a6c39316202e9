// Subscriptions: every committed event of the store, in per-partition order, never one of an
// aborted transaction; catch-up from a starting point, then live. A named subscription keeps
// its checkpoint in Kafka (consumer group `<store>.subscription.<name>`) and resumes there.
import { KafkaConsumer, type KafkaConnection, type KafkaMessage } from '../kafka/index.js';
import { storedEventFrom, type StoredEvent } from '../records/event-record.js';
import type { Position, RecordedEvent } from '../streams/event.js';

/** Where a subscription starts: the first event, events appended from now on, or just after saved positions. */
export type SubscriptionStart = 'start' | 'end' | readonly Position[];

export interface SubscribeOptions {
  readonly from?: SubscriptionStart;
  /**
   * Names a durable subscription: its checkpoint is committed to Kafka after each handled
   * batch and a restart resumes after it (`from` applies only when there is no checkpoint).
   * Processes subscribing with the same name share the partitions.
   */
  readonly name?: string;
}

export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

export class Subscription {
  private running = true;
  private readonly loop: Promise<void>;
  private readonly positions = new Map<number, string>();

  /** @internal */
  constructor(
    private readonly consumer: KafkaConsumer,
    private readonly topic: string,
    private readonly handler: EventHandler,
    private readonly durable: boolean,
    /** Decodes and upcasts: one stored event may be read as none, one or several. */
    private readonly read: (stored: StoredEvent) => RecordedEvent[],
  ) {
    this.loop = this.run();
    // A handler failure is reported through `done`; it must not also be an unhandled rejection.
    this.loop.catch(() => undefined);
  }

  /** @internal */
  static async start(connection: KafkaConnection, topic: string, partitions: number, endOffsets: () => Promise<Map<number, number>>, options: SubscribeOptions, handler: EventHandler, read: (stored: StoredEvent) => RecordedEvent[]): Promise<Subscription> {
    const from = options.from ?? 'start';
    if (options.name !== undefined) {
      const consumer = await KafkaConsumer.connect({ ...connection, groupId: options.name, isolation: 'read_committed', startFrom: from === 'end' ? 'latest' : 'earliest' });
      consumer.subscribe([topic]);
      return new Subscription(consumer, topic, handler, true, read);
    }
    const consumer = await KafkaConsumer.connect({ ...connection, isolation: 'read_committed' });
    const starts = new Map<number, number>();
    if (from === 'end') {
      for (const [partition, offset] of await endOffsets()) starts.set(partition, offset);
    } else if (from !== 'start') {
      for (const position of from) starts.set(position.partition, Number(position.offset) + 1);
    }
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: starts.get(partition) ?? 0 })));
    return new Subscription(consumer, topic, handler, false, read);
  }

  /** Resolves when the subscription has stopped; rejects with the handler's error if it failed. */
  get done(): Promise<void> {
    return this.loop;
  }

  /** The position of the last handled event of each partition. */
  get lastPositions(): Position[] {
    return [...this.positions].map(([partition, offset]) => ({ partition, offset }));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop.catch(() => undefined);
  }

  private async run(): Promise<void> {
    try {
      while (this.running) {
        const messages = await this.consumer.consume(500, 100);
        await this.handle(messages);
      }
    } finally {
      await this.consumer.disconnect();
    }
  }

  private async handle(messages: KafkaMessage[]): Promise<void> {
    const handled = new Map<number, number>();
    try {
      for (const message of messages) {
        if (!this.running) break;
        const stored = storedEventFrom(message);
        if (stored) for (const event of this.read(stored)) await this.handler(event);
        handled.set(message.partition, message.offset + 1);
        this.positions.set(message.partition, String(message.offset));
      }
    } finally {
      // Checkpoint what was handled, also when the handler failed on a later event.
      if (this.durable && handled.size > 0) {
        this.consumer.commit([...handled].map(([partition, offset]) => ({ topic: this.topic, partition, offset })));
      }
    }
  }
}
