// Subscriptions: every committed event of the store, in per-partition order, never one of an
// aborted transaction; catch-up from a starting point, then live. A named subscription keeps
// its checkpoint in Kafka (consumer group `<store>.subscription.<name>`) and resumes there.
// A shard moved by growth continues in another partition: its open marker holds that
// partition back until the old partition has been handled up to the shard's seal.
import { checkGroupAccess, KafkaConsumer, type KafkaConnection, type KafkaMessage } from '../kafka/index.js';
import { kafkaErrorCodes } from '../kafka/errors.js';
import type { RoutingLog } from '../partitioning/routing-log.js';
import { storedEventFrom, type StoredEvent } from '../records/event-record.js';
import { decodeMarker } from '../partitioning/routing-record.js';
import type { Position, RecordedEvent } from '../streams/event.js';
import { describeValue, InvalidArgumentError, TimeoutError } from '../errors.js';
import { guarded } from './validation.js';
import type { EventHandler, SubscribeOptions, Subscription as StoreSubscription } from '../contract/event-store.js';
import { defaultStopTimeoutMs } from './operation-arguments.js';

export type { EventHandler, SubscribeOptions };
export { validateSubscriptionStart } from './operation-arguments.js';
import type { StoreEvent } from '../instrumentation/store-events.js';

/** A checkpoint commit waits this long for the group coordinator, then is tried again with the next. */
const commitTimeoutMs = 10_000;

/** A partition held back at an open marker until another partition is handled up to `offset`. */
interface Barrier {
  readonly partition: number;
  readonly offset: number;
  /** The marker and what was fetched after it, handled in order once the barrier is passed. */
  readonly messages: KafkaMessage[];
}

export class Subscription implements StoreSubscription {
  private running = true;
  private readonly loop: Promise<void>;
  private readonly positions = new Map<number, string>();
  /** Per partition, the first offset not handled yet (from the start position on). */
  private readonly next = new Map<number, number>();
  private readonly barriers = new Map<number, Barrier>();
  /** Checkpoints handled but not committed yet (named subscriptions). */
  private readonly uncommitted = new Map<number, number>();
  private stopFollowingRouting: () => void = () => undefined;
  private stopping: Promise<void> | undefined;
  private disconnecting: Promise<void> | undefined;
  /** Set when `stop()` gave up on a running handler: nothing after it is checkpointed. */
  private abandoned = false;
  /** Per partition, the record timestamp of the last message handled. */
  private readonly timestamps = new Map<number, number>();
  private lag: LagReport | undefined;
  /** The consumer group; empty for an unnamed subscription. */
  private group = '';
  private abandon: (error: Error) => void = () => undefined;
  private readonly abandonment = new Promise<never>((_, reject) => {
    this.abandon = reject;
  });

  /** @internal */
  constructor(
    private readonly consumer: KafkaConsumer,
    private readonly topic: string,
    private readonly handler: EventHandler,
    private readonly durable: boolean,
    /** Decodes and upcasts: one stored event may be read as none, one or several. */
    private readonly read: (stored: StoredEvent) => RecordedEvent[],
    starts: Map<number, number>,
    private readonly stopTimeoutMs: number = defaultStopTimeoutMs,
  ) {
    for (const [partition, offset] of starts) this.next.set(partition, offset);
    this.loop = this.run();
    // A handler failure is reported through `done`; it must not also be an unhandled rejection.
    this.loop.catch(() => undefined);
  }

  /** @internal */
  static async start(
    connection: KafkaConnection,
    topic: string,
    routing: RoutingLog,
    endOffsets: (partitions: number[]) => Promise<Map<number, number>>,
    options: SubscribeOptions,
    handler: EventHandler,
    read: (stored: StoredEvent) => RecordedEvent[],
    instrument?: StoreEvents,
  ): Promise<Subscription> {
    const subscription = await Subscription.open(connection, topic, routing, endOffsets, options, handler, read);
    subscription.group = options.name ?? '';
    if (instrument) subscription.lag = new LagReport(subscription.group, endOffsets, instrument);
    return subscription;
  }

  private static async open(
    connection: KafkaConnection,
    topic: string,
    routing: RoutingLog,
    endOffsets: (partitions: number[]) => Promise<Map<number, number>>,
    options: SubscribeOptions,
    handler: EventHandler,
    read: (stored: StoredEvent) => RecordedEvent[],
  ): Promise<Subscription> {
    const from = options.from ?? 'start';
    const partitions = Array.from({ length: routing.table.partitions }, (_, partition) => partition);
    if (options.name !== undefined) {
      // On a secured cluster a group the principal may not use is only retried in silence by
      // librdkafka: refuse the subscription now, naming the group (docs/decisions/0015-acls.md).
      if (connection.security) await checkGroupAccess(connection, options.name);
      // Partitions added by growth must be read from their start, so the group never resets to
      // 'latest': a new group starting at the end commits the current ends first.
      const consumer = await KafkaConsumer.connect({
        ...connection,
        groupId: options.name,
        isolation: 'read_committed',
        startFrom: 'earliest',
        overrides: { 'topic.metadata.refresh.interval.ms': 1_000 },
      });
      if (from !== 'start') {
        try {
          const committed = await consumer.committed(partitions.map((partition) => ({ topic, partition })), 10_000);
          if (committed.every((c) => c.offset < 0)) {
            const starts = from === 'end' ? [...(await endOffsets(partitions))] : from.map((p) => [p.partition, Number(p.offset) + 1] as const);
            await consumer.commit(starts.map(([partition, offset]) => ({ topic, partition, offset })), commitTimeoutMs);
          }
        } catch (error) {
          await consumer.disconnect().catch(() => undefined);
          throw error;
        }
      }
      consumer.subscribe([topic]);
      return new Subscription(consumer, topic, handler, true, read, new Map(), options.stopTimeoutMs);
    }
    const consumer = await KafkaConsumer.connect({ ...connection, isolation: 'read_committed' });
    const starts = new Map<number, number>();
    if (from === 'end') {
      try {
        for (const [partition, offset] of await endOffsets(partitions)) starts.set(partition, offset);
      } catch (error) {
        await consumer.disconnect().catch(() => undefined);
        throw error;
      }
    } else if (from !== 'start') {
      for (const position of from) starts.set(position.partition, Number(position.offset) + 1);
    }
    for (const partition of partitions) if (!starts.has(partition)) starts.set(partition, 0);
    consumer.addPartitions(partitions.map((partition) => ({ topic, partition, offset: starts.get(partition)! })));
    const subscription = new Subscription(consumer, topic, handler, false, read, starts, options.stopTimeoutMs);
    // Partitions added by growth are read from their first record, once this consumer knows them.
    subscription.stopFollowingRouting = routing.onChange((entry) => {
      if (entry.kind !== 'generation') return;
      const added = Array.from({ length: entry.partitions }, (_, partition) => partition).filter((partition) => !subscription.next.has(partition));
      if (added.length === 0) return;
      for (const partition of added) subscription.next.set(partition, 0);
      void consumer
        .refreshMetadata(topic)
        .catch(() => undefined)
        .then(() => consumer.addPartitions(added.map((partition) => ({ topic, partition, offset: 0 }))));
    });
    return subscription;
  }

  /**
   * Resolves when the subscription has stopped; rejects with the handler's error if it failed,
   * or with the TimeoutError of a `stop()` that abandoned a running handler.
   */
  get done(): Promise<void> {
    return Promise.race([this.loop, this.abandonment]);
  }

  /** The position of the last handled event of each partition. */
  /** @internal Where it is, for `health()`: per partition the next offset to handle and the last handled record's time. */
  progress(): SubscriptionProgress {
    return { group: this.group, next: this.next, timestamps: this.timestamps };
  }

  get lastPositions(): Position[] {
    return [...this.positions].map(([partition, offset]) => ({ partition, offset }));
  }

  /**
   * Stops fetching and waits for the running handler, if any, up to `stopTimeoutMs`; then
   * closes the consumer without it and rejects with TimeoutError (the handler's eventual
   * result is ignored and nothing after it is checkpointed). Concurrent calls share one stop.
   */
  stop(): Promise<void> {
    this.running = false;
    this.stopFollowingRouting();
    if (!this.stopping) {
      const stopping = this.stopWithin();
      this.stopping = stopping;
      // Calls made once it has stopped (an abandoned handler included) find it stopped.
      void stopping.then(
        () => undefined,
        () => {
          this.stopping = Promise.resolve();
        },
      );
    }
    return this.stopping;
  }

  private async stopWithin(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), this.stopTimeoutMs);
    });
    const outcome = await Promise.race([this.loop.then(() => 'stopped' as const, () => 'stopped' as const), expired]);
    clearTimeout(timer);
    if (outcome === 'stopped') return;
    this.abandoned = true;
    await this.disconnect();
    const error = new TimeoutError('subscription.stop (the running event handler did not return; the subscription stopped without it)', this.stopTimeoutMs);
    this.abandonment.catch(() => undefined);
    this.abandon(error);
    throw error;
  }

  private disconnect(): Promise<void> {
    this.disconnecting ??= this.consumer.disconnect().catch(() => undefined);
    return this.disconnecting;
  }

  private async run(): Promise<void> {
    try {
      while (this.running) {
        let messages: KafkaMessage[];
        try {
          messages = await this.consumer.consume(500, 100);
        } catch (error) {
          // A slow or briefly unreachable broker, or a partition added a moment ago, is waited
          // out; only the handler's errors end a subscription.
          const code = (error as { kafkaCode?: number }).kafkaCode;
          const transient = (error as { retriable?: boolean }).retriable === true || code === kafkaErrorCodes.ERR__UNKNOWN_PARTITION || code === kafkaErrorCodes.ERR_UNKNOWN_TOPIC_OR_PART;
          if (!transient) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        await this.handle(messages);
        await this.passBarriers();
        if (messages.length > 0) this.lag?.after(this.next, this.timestamps);
      }
    } finally {
      if (this.durable && !this.abandoned) await this.commitHandled();
      await this.disconnect();
    }
  }

  /** Handles what the barriers held back once the partitions they wait for got far enough. */
  private async passBarriers(): Promise<void> {
    for (const [partition, barrier] of [...this.barriers]) {
      if (!(await this.reached(barrier.partition, barrier.offset))) continue;
      this.barriers.delete(partition);
      this.consumer.resume([{ topic: this.topic, partition }]);
      await this.handle(barrier.messages);
    }
  }

  /** Whether `partition` has been handled up to `offset` (exclusive), here or by another member of the group. */
  private async reached(partition: number, offset: number): Promise<boolean> {
    if ((this.next.get(partition) ?? -1) >= offset) return true;
    if (!this.durable) return false;
    // Not known now (the coordinator is slow, say) is "not yet": the barrier is asked again.
    const [committed] = await this.consumer.committed([{ topic: this.topic, partition }], 10_000).catch(() => []);
    return committed !== undefined && committed.offset >= offset;
  }

  private async handle(messages: KafkaMessage[]): Promise<void> {
    const handled = new Map<number, number>();
    try {
      for (const message of messages) {
        if (!this.running) break;
        const held = this.barriers.get(message.partition);
        if (held) {
          // Fetched before the pause took effect; it is handled after the barrier.
          if (message.offset > (held.messages[held.messages.length - 1]?.offset ?? -1)) held.messages.push(message);
          continue;
        }
        if (message.offset < (this.next.get(message.partition) ?? 0)) continue;
        const marker = decodeMarker(message);
        if (marker?.kind === 'open' && marker.sealedAt !== undefined && !(await this.reached(marker.from, marker.sealedAt + 1))) {
          // Not even the marker counts as handled: a restart must meet this barrier again.
          this.barriers.set(message.partition, { partition: marker.from, offset: marker.sealedAt + 1, messages: [message] });
          this.consumer.pause([{ topic: this.topic, partition: message.partition }]);
          continue;
        }
        const stored = storedEventFrom(message);
        if (stored) for (const event of this.read(stored)) await this.handler(event);
        handled.set(message.partition, message.offset + 1);
        this.next.set(message.partition, message.offset + 1);
        if (message.timestamp !== undefined) this.timestamps.set(message.partition, message.timestamp);
        this.positions.set(message.partition, String(message.offset));
      }
    } finally {
      // Checkpoint what was handled, also when the handler failed on a later event.
      if (this.durable && !this.abandoned) {
        for (const [partition, offset] of handled) this.uncommitted.set(partition, offset);
        await this.commitHandled();
      }
    }
  }

  /**
   * Commits the checkpoints not committed yet. A commit that fails or times out (the group
   * coordinator is away) is kept for the next one: the subscription goes on, and at worst
   * replays those events after a restart, as any at-least-once checkpoint.
   */
  private async commitHandled(): Promise<void> {
    if (this.uncommitted.size === 0) return;
    const offsets = [...this.uncommitted];
    try {
      if ((await this.consumer.commit(offsets.map(([partition, offset]) => ({ topic: this.topic, partition, offset })), commitTimeoutMs)) === 'skipped') return;
      for (const [partition, offset] of offsets) if (this.uncommitted.get(partition) === offset) this.uncommitted.delete(partition);
    } catch {
      // Kept in `uncommitted`.
    }
  }
}

/** A subscription's place in the log, as `health()` reads it. */
export interface SubscriptionProgress {
  readonly group: string;
  readonly next: ReadonlyMap<number, number>;
  readonly timestamps: ReadonlyMap<number, number>;
}

/** Where a subscription reports its lag; `active` false: nobody listens, the ends are not asked for. */
export interface StoreEvents {
  readonly active: boolean;
  emit(event: StoreEvent): void;
}

/** How often a subscription asks for the partitions' ends to report its lag. */
const lagEveryMs = 1_000;

/**
 * A subscription's distance from the end of the partitions it handled, after a batch, at most
 * once a second (it asks the brokers for the ends). Records count transaction markers too.
 */
export class LagReport {
  private last = 0;
  private asking = false;

  constructor(
    private readonly group: string,
    private readonly endOffsets: (partitions: number[]) => Promise<Map<number, number>>,
    private readonly instrument: StoreEvents,
  ) {}

  after(next: ReadonlyMap<number, number>, timestamps: ReadonlyMap<number, number>): void {
    const now = Date.now();
    if (!this.instrument.active || this.asking || now - this.last < lagEveryMs) return;
    this.asking = true;
    this.last = now;
    const partitions = [...timestamps.keys()];
    void this.endOffsets(partitions)
      .then((ends) => {
        for (const partition of partitions) {
          const end = ends.get(partition);
          const at = next.get(partition);
          if (end === undefined || at === undefined) continue;
          const events = Math.max(0, end - at);
          const seconds = events === 0 ? 0 : Math.max(0, (Date.now() - (timestamps.get(partition) ?? Date.now())) / 1000);
          this.instrument.emit({ type: 'subscription-lag', group: this.group, partition, events, seconds: Math.round(seconds * 1000) / 1000 });
        }
      })
      .catch(() => undefined) // the next batch asks again
      .finally(() => {
        this.asking = false;
      });
  }
}
