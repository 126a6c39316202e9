// Batch subscriptions: the processes subscribing under one name share the store's partitions
// (a Kafka consumer group assigns them); each partition is read from the checkpoint its
// checkpoint store holds, and its events are handed over in batches bounded by count and
// time, each with its checkpoint. Growth barriers hold a partition at an open marker until
// the old partition has been handled up to its seal, as the store's checkpoints say.
import { KafkaConsumer, type KafkaConnection, type KafkaMessage } from '../kafka/index.js';
import { kafkaErrorCodes } from '../kafka/errors.js';
import { storedEventFrom, type StoredEvent } from '../records/event-record.js';
import { decodeMarker } from '../partitioning/routing-record.js';
import type { Position, RecordedEvent } from '../streams/event.js';
import { TimeoutError } from '../errors.js';
import type { SubscriptionStart } from '../contract/event-store.js';
import { CheckpointLostError, KafkaGroupCheckpoints, type Batch, type CheckpointStore } from './checkpoints.js';
import { messageOf } from './validation.js';
import { LagReport, type StoreEvents, type SubscriptionProgress } from './subscription.js';

export type BatchHandler = (batch: Batch) => void | Promise<void>;

export interface BatchSubscribeOptions {
  /** Names the subscription: processes using the same name share the partitions. */
  readonly name: string;
  /** Where checkpoints are kept (default: the Kafka consumer group, committed after each batch: at-least-once). */
  readonly checkpoints?: CheckpointStore;
  /**
   * Where a partition starts when the checkpoint store holds nothing for it (as `subscribe`'s
   * `from`; default 'start'). 'end' is the log's end when the subscription starts; partitions
   * added later by growth start at their first event.
   */
  readonly from?: SubscriptionStart;
  /** A batch holds at most this many events (default 500). */
  readonly maxBatchEvents?: number;
  /** A batch is handed over at most this long after its first record was read (default 100 ms). */
  readonly maxBatchWaitMs?: number;
  /** How long `stop()` waits for a running handler (default 10 s). */
  readonly stopTimeoutMs?: number;
  /** The group's session timeout: how long a frozen member keeps its partitions (default 10 s). */
  readonly sessionTimeoutMs?: number;
  /** Where the subscription says what it does: partitions assigned and taken away, claims retried (default: the store's log). */
  readonly log?: (line: string) => void;
}

/** The options a batch subscription runs with, checked; `from` resolved to offsets (`starts`). */
export type BatchSettings = Required<Omit<BatchSubscribeOptions, 'checkpoints' | 'from'>>;

export { batchDefaults } from './operation-arguments.js';

/** A record read and decoded, waiting for its batch to be handed over. */
interface Pending {
  readonly partition: number;
  readonly offset: number;
  readonly events: RecordedEvent[];
}

/** A partition held back at an open marker until another partition is handled up to `offset`. */
interface Barrier {
  readonly partition: number;
  readonly offset: number;
  readonly messages: KafkaMessage[];
}

export class BatchSubscription {
  private running = true;
  private readonly loop: Promise<void>;
  /** Partitions the group gave this reader. */
  private readonly assigned = new Set<number>();
  /** Assigned (or lost) partitions whose checkpoint must be claimed before they are read. */
  private readonly toClaim = new Set<number>();
  /** Per partition: the next offset to read (past what waits in `pending`). */
  private readonly next = new Map<number, number>();
  /** Per partition: the next offset to handle, as committed by this reader. */
  private readonly handled = new Map<number, number>();
  private readonly positions = new Map<number, string>();
  /** Per partition, the record timestamp of the last event handled (for the lag in seconds). */
  private readonly timestamps = new Map<number, number>();
  private lag: LagReport | undefined;
  private readonly barriers = new Map<number, Barrier>();
  private pending: Pending[] = [];
  private pendingEvents = 0;
  private pendingSince = 0;
  /**
   * The batch handed over last, while its handler and commit run: the reader reads and
   * decodes the next batch meanwhile, and hands it over only once this one has settled, so
   * batches are applied one at a time and in order.
   */
  private inFlight: Promise<void> | undefined;
  /** What made the batch in flight fail (not a lost checkpoint): it ends the subscription. */
  private failure: { error: unknown } | undefined;
  /** A claim refused (the store unreachable, say) or lost is tried again no earlier than this. */
  private claimAfter = 0;
  private stopping: Promise<void> | undefined;
  private abandon: (error: Error) => void = () => undefined;
  private readonly abandonment = new Promise<never>((_, reject) => {
    this.abandon = reject;
  });
  private group = '';

  private constructor(
    private readonly consumer: KafkaConsumer,
    private readonly topic: string,
    private readonly checkpoints: CheckpointStore,
    private readonly handler: BatchHandler,
    private readonly read: (stored: StoredEvent) => RecordedEvent[],
    private readonly options: BatchSettings,
    /** Per partition, the next offset to read when the checkpoint store has none (absent: 0). */
    private readonly starts: ReadonlyMap<number, number>,
  ) {
    this.loop = this.run();
    this.loop.catch(() => undefined);
  }

  /** @internal */
  static async start(
    connection: KafkaConnection,
    topic: string,
    groupId: string,
    options: BatchSettings & { readonly checkpoints?: CheckpointStore },
    handler: BatchHandler,
    read: (stored: StoredEvent) => RecordedEvent[],
    starts: ReadonlyMap<number, number> = new Map(),
    /** Reports the lag after batches (`subscription-lag`), while someone listens. */
    instrument?: StoreEvents & { endOffsets(partitions: number[]): Promise<Map<number, number>> },
  ): Promise<BatchSubscription> {
    let subscription: BatchSubscription | undefined;
    const consumer = await KafkaConsumer.connect({
      ...connection,
      groupId,
      isolation: 'read_committed',
      startFrom: 'earliest',
      sessionTimeoutMs: options.sessionTimeoutMs,
      // Partitions move one at a time: the others keep their reader (and their claim).
      overrides: { 'topic.metadata.refresh.interval.ms': 1_000, 'partition.assignment.strategy': 'cooperative-sticky' },
      rebalance: {
        assigned: (partitions) => subscription?.assign(partitions.map((p) => p.partition)),
        revoked: (partitions) => subscription?.revoke(partitions.map((p) => p.partition)),
      },
    });
    subscription = new BatchSubscription(consumer, topic, options.checkpoints ?? new KafkaGroupCheckpoints(consumer, topic), handler, read, options, starts);
    subscription.group = groupId;
    if (instrument) subscription.lag = new LagReport(groupId, (partitions) => instrument.endOffsets(partitions), instrument);
    consumer.subscribe([topic]);
    return subscription;
  }

  /** Resolves when stopped; rejects with the handler's error, or the TimeoutError of a `stop()` that gave up on it. */
  get done(): Promise<void> {
    return Promise.race([this.loop, this.abandonment]);
  }

  /** The position of the last record handled (and committed) in each partition this reader holds. */
  get lastPositions(): Position[] {
    return [...this.positions].map(([partition, offset]) => ({ partition, offset }));
  }

  /** @internal Where it is, for `health()`: per partition held, the next offset to handle and the last handled event's time. */
  progress(): SubscriptionProgress {
    const held = (map: ReadonlyMap<number, number>) => new Map([...map].filter(([partition]) => this.assigned.has(partition)));
    return { group: this.group, next: held(this.handled), timestamps: held(this.timestamps) };
  }

  /** The partitions this reader holds now. */
  get partitions(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }

  /** Stops reading and waits for the running batch up to `stopTimeoutMs`; a batch not handed over yet is dropped (read again later). */
  stop(): Promise<void> {
    this.running = false;
    this.stopping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), this.options.stopTimeoutMs)));
      const outcome = await Promise.race([this.loop.then(() => 'stopped' as const, () => 'stopped' as const), expired]);
      clearTimeout(timer);
      if (outcome === 'stopped') return;
      await this.consumer.disconnect().catch(() => undefined);
      const error = new TimeoutError('batch subscription stop (the running batch handler did not return; stopped without it)', this.options.stopTimeoutMs);
      this.abandonment.catch(() => undefined);
      this.abandon(error);
      throw error;
    })();
    return this.stopping;
  }

  /**
   * Claims these partitions again and reads them from the checkpoints the store then holds
   * (their checkpoints were moved by someone else: a rebuild, say). Records read but not
   * handed over are dropped.
   */
  reclaim(partitions: readonly number[]): void {
    const again = partitions.filter((p) => this.assigned.has(p));
    for (const partition of again) {
      this.toClaim.add(partition);
      this.barriers.delete(partition);
    }
    this.pending = this.pending.filter((p) => !this.toClaim.has(p.partition));
    this.pendingEvents = this.pending.reduce((n, p) => n + p.events.length, 0);
    this.pause(again);
  }

  /** From librdkafka's rebalance callback: the partitions wait, paused, for their claim. */
  private assign(partitions: number[]): void {
    this.options.log(`subscription ${this.options.name}: assigned partitions ${partitions.join(',')}`);
    for (const partition of partitions) {
      this.assigned.add(partition);
      this.toClaim.add(partition);
    }
    this.pause(partitions);
  }

  private revoke(partitions: number[]): void {
    this.options.log(`subscription ${this.options.name}: partitions ${partitions.join(',')} taken away`);
    const gone = new Set(partitions);
    for (const partition of partitions) {
      this.assigned.delete(partition);
      this.toClaim.delete(partition);
      this.barriers.delete(partition);
      this.next.delete(partition);
      this.handled.delete(partition);
      this.positions.delete(partition);
    }
    // Records read but not handed over are the next holder's.
    this.pending = this.pending.filter((p) => !gone.has(p.partition));
    this.pendingEvents = this.pending.reduce((n, p) => n + p.events.length, 0);
    this.checkpoints.release(partitions);
  }

  private pause(partitions: number[]): void {
    try {
      this.consumer.pause(partitions.map((partition) => ({ topic: this.topic, partition })));
    } catch {
      // Not assigned (any more): its records are ignored anyway.
    }
  }

  private async run(): Promise<void> {
    try {
      while (this.running) {
        if (this.toClaim.size > 0 && Date.now() >= this.claimAfter) {
          // The batch in flight may hold these partitions: its outcome decides where they resume.
          await this.settle();
          await this.claim();
        }
        const waitMs = this.pending.length > 0 ? Math.max(0, this.pendingSince + this.options.maxBatchWaitMs - Date.now()) : 200;
        let messages: KafkaMessage[];
        try {
          messages = await this.consumer.consume(Math.max(1, Math.min(1_000, this.options.maxBatchEvents - this.pendingEvents)), waitMs);
        } catch (error) {
          const code = (error as { kafkaCode?: number }).kafkaCode;
          const transient = (error as { retriable?: boolean }).retriable === true || code === kafkaErrorCodes.ERR__UNKNOWN_PARTITION || code === kafkaErrorCodes.ERR_UNKNOWN_TOPIC_OR_PART;
          if (!transient) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        await this.accept(messages);
        if (this.pending.length > 0 && (this.pendingEvents >= this.options.maxBatchEvents || Date.now() - this.pendingSince >= this.options.maxBatchWaitMs)) await this.flush();
        await this.passBarriers();
      }
      await this.settle();
    } finally {
      await this.inFlight?.catch(() => undefined);
      await this.consumer.disconnect().catch(() => undefined);
    }
  }

  /** Claims the partitions waiting for it and moves the reader to where their checkpoints are. */
  private async claim(): Promise<void> {
    const partitions = [...this.toClaim];
    let claimed: ReadonlyMap<number, number>;
    try {
      claimed = await this.checkpoints.claim(partitions);
    } catch (error) {
      this.options.log(`subscription ${this.options.name}: claiming partitions ${partitions.join(',')} failed (${messageOf(error)}); trying again`);
      this.claimAfter = Date.now() + 1_000;
      return;
    }
    for (const partition of partitions) {
      // Taken away while the claim ran: the next holder claims it.
      if (!this.toClaim.has(partition)) continue;
      // No checkpoint yet (none, or a negative one): the subscription's start.
      const held = claimed.get(partition) ?? -1;
      const offset = held >= 0 ? held : (this.starts.get(partition) ?? 0);
      try {
        await this.consumer.seek({ topic: this.topic, partition, offset }, 10_000);
      } catch (error) {
        if (!this.assigned.has(partition)) continue;
        this.options.log(`subscription ${this.options.name}: seeking partition ${partition} to ${offset} failed (${messageOf(error)}); trying again`);
        this.claimAfter = Date.now() + 200;
        continue;
      }
      this.toClaim.delete(partition);
      this.next.set(partition, offset);
      this.handled.set(partition, offset);
      if (offset > 0) this.positions.set(partition, String(offset - 1));
      try {
        this.consumer.resume([{ topic: this.topic, partition }]);
      } catch {
        // Revoked meanwhile.
      }
    }
  }

  private async accept(messages: KafkaMessage[]): Promise<void> {
    for (const message of messages) {
      if (!this.running) return;
      const { partition, offset } = message;
      // Fetched before the claim's seek, or for a partition given up: read again from the checkpoint.
      if (!this.assigned.has(partition) || this.toClaim.has(partition)) continue;
      const held = this.barriers.get(partition);
      if (held) {
        if (offset > (held.messages[held.messages.length - 1]?.offset ?? -1)) held.messages.push(message);
        continue;
      }
      if (offset < (this.next.get(partition) ?? 0)) continue;
      const marker = decodeMarker(message);
      if (marker?.kind === 'open' && marker.sealedAt !== undefined) {
        // What is read so far is handed over (and applied) first: the old partition may be in it.
        await this.flush();
        await this.settle();
        if (!this.assigned.has(partition) || this.toClaim.has(partition)) continue;
        if (!(await this.reached(marker.from, marker.sealedAt + 1))) {
          this.barriers.set(partition, { partition: marker.from, offset: marker.sealedAt + 1, messages: [message] });
          this.pause([partition]);
          continue;
        }
      }
      const stored = storedEventFrom(message);
      const events = stored ? this.read(stored) : [];
      if (this.pending.length === 0) this.pendingSince = Date.now();
      this.pending.push({ partition, offset, events });
      this.pendingEvents += events.length;
      this.next.set(partition, offset + 1);
      if (this.pendingEvents >= this.options.maxBatchEvents) await this.flush();
    }
  }

  /**
   * Hands the pending records over as one batch, once the batch before it has settled; does
   * not wait for the handler (see `inFlight`).
   */
  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    // Settling first: a checkpoint lost there drops the pending records of its partitions.
    await this.settle();
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.pendingEvents = 0;
    const running = this.handOver(records);
    this.inFlight = running;
    running.catch((error: unknown) => {
      // Ends the loop soon even when no record arrives to flush again.
      this.failure ??= { error };
      this.running = false;
    });
  }

  /** Waits for the batch in flight; rethrows what made it fail. */
  private async settle(): Promise<void> {
    const running = this.inFlight;
    if (running) {
      await running.catch(() => undefined);
      if (this.inFlight === running) this.inFlight = undefined;
    }
    if (this.failure) throw this.failure.error;
  }

  /** Runs the handler on one batch and commits its checkpoint. */
  private async handOver(records: Pending[]): Promise<void> {
    const last = new Map<number, number>();
    for (const record of records) last.set(record.partition, record.offset);
    const checkpoint = [...last].map(([partition, offset]) => ({ partition, offset: String(offset) }));
    const events: RecordedEvent[] = [];
    for (const record of records) for (const event of record.events) events.push(event);
    try {
      await this.handler({ events, checkpoint });
      await this.checkpoints.commit(checkpoint);
    } catch (error) {
      if (!(error instanceof CheckpointLostError)) throw error;
      // Nothing of the batch took effect: its partitions are claimed again and read from their checkpoints.
      const again = [...new Set([...last.keys(), ...error.partitions])].filter((p) => this.assigned.has(p));
      this.options.log(`subscription ${this.options.name}: ${error.message}; claiming ${again.join(',') || 'nothing'} again`);
      this.reclaim(again);
      // A runner that lost its claim to a new holder is about to lose the partition in the
      // group too: claiming back at once would only take it from the new holder for a moment.
      this.claimAfter = Date.now() + 1_000;
      return;
    }
    for (const [partition, offset] of last) {
      if (!this.assigned.has(partition)) continue;
      this.handled.set(partition, offset + 1);
      this.positions.set(partition, String(offset));
    }
    for (const record of records) {
      const event = record.events.at(-1);
      if (event && this.assigned.has(record.partition)) this.timestamps.set(record.partition, event.timestamp.getTime());
    }
    this.lag?.after(this.handled, this.timestamps);
  }

  private async passBarriers(): Promise<void> {
    for (const [partition, barrier] of [...this.barriers]) {
      if (!(await this.reached(barrier.partition, barrier.offset))) continue;
      if (this.barriers.get(partition) !== barrier) continue;
      this.barriers.delete(partition);
      try {
        this.consumer.resume([{ topic: this.topic, partition }]);
      } catch {
        continue;
      }
      await this.accept(barrier.messages);
    }
  }

  /** Whether `partition` has been handled up to `offset` (exclusive), here or by another reader. */
  private async reached(partition: number, offset: number): Promise<boolean> {
    if ((this.handled.get(partition) ?? -1) >= offset) return true;
    // Not known now (the store is slow, say) is "not yet": the barrier is asked again.
    return (await this.checkpoints.next(partition).catch(() => -1)) >= offset;
  }
}
