// The public event store: connect, append with optimistic concurrency, read a stream,
// subscribe, close. Appends go to the partition's owner: this process when it owns the
// partition (the fast path), else through `<store>.appends`.
import { mkdirSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { brokersFromEnvironment, KafkaAdmin, validateBrokers, type KafkaConnection } from '../kafka/index.js';
import { WriterGroup } from '../ownership/writer-group.js';
import { partitionForKey } from '../partitioning/murmur2.js';
import { recordedEvent } from '../records/event-record.js';
import { IndexFollower } from '../stream-index/follower.js';
import { StreamIndex } from '../stream-index/stream-index.js';
import { OwnershipChangedError, StoreClosedError, StreamNotFoundError } from '../streams/errors.js';
import type { AppendResult, EventData, RecordedEvent } from '../streams/event.js';
import { validateExpectedVersion, type ExpectedVersion } from '../streams/expected-version.js';
import { RemoteAppends } from './remote-appends.js';
import { Subscription, type EventHandler, type SubscribeOptions } from './subscription.js';
import { ensureTopics, type StoreLayout } from './topics.js';
import { encodeEvents, validatePositiveInteger, validateStoreName, validateStreamId } from './validation.js';

export interface ConnectOptions {
  /** Bootstrap brokers; defaults to KAFKA_BROKERS. */
  readonly brokers?: readonly string[];
  /** Topic prefix: `<store>.events`, `<store>.appends`, `<store>.replies`. */
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
  /**
   * Transactions this process runs at the same time across the partitions it owns (default:
   * 2 per CPU core). Appends that wait for a slot join the next transaction of their
   * partition, so fewer, larger transactions carry the same load with less work per event.
   */
  readonly maxConcurrentTransactions?: number;
  /** Largest encoded event accepted (default 1,000,000 bytes, librdkafka's message.max.bytes less headroom). */
  readonly maxEventBytes?: number;
  /** Names the process in broker logs and metrics. */
  readonly clientId?: string;
  /** Receives the store's operational messages (writers starting, stopping, failing). */
  readonly log?: (line: string) => void;
}

export interface AppendOptions {
  /** Required: the version the stream is expected to be at, or 'any' to opt out of the check. */
  readonly expectedVersion: ExpectedVersion;
  /** Puts the stream in the partition of this key instead of its own id (streams sharing a key share a partition). */
  readonly partitionKey?: string;
}

export interface ReadStreamOptions {
  /** First version to read (default 0 forwards, the last event backwards). */
  readonly fromVersion?: number;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
  /** The partition key the stream was appended with, when it was not its id. */
  readonly partitionKey?: string;
}

const readPageSize = 1_000;

const defaults = {
  partitions: 12,
  replicationFactor: 1,
  appendTimeoutMs: 30_000,
  sessionTimeoutMs: 10_000,
  transactionTimeoutMs: 10_000,
  maxEventBytes: 1_000_000 - 4_096,
  maxBatch: 1_000,
};

export class EventStore {
  private closed = false;
  private readonly subscriptions = new Set<Subscription>();

  private constructor(
    private readonly connection: KafkaConnection,
    private readonly layout: StoreLayout,
    private readonly admin: KafkaAdmin,
    private readonly index: StreamIndex,
    private readonly follower: IndexFollower,
    private readonly remote: RemoteAppends,
    private readonly writers: WriterGroup | undefined,
    private readonly settings: { appendTimeoutMs: number; maxEventBytes: number },
  ) {}

  static async connect(options: ConnectOptions): Promise<EventStore> {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'EventStore.connect needs { store, brokers?, ... }');
    validateStoreName(options.store);
    const brokers = options.brokers ? [...options.brokers] : brokersFromEnvironment();
    if (!brokers) throw new InvalidArgumentError('brokers', 'give brokers or set KAFKA_BROKERS=host:port,...');
    validateBrokers(brokers);
    const partitions = options.partitions ?? defaults.partitions;
    validatePositiveInteger(partitions, 'partitions', 10_000);
    const replicationFactor = options.replicationFactor ?? defaults.replicationFactor;
    validatePositiveInteger(replicationFactor, 'replicationFactor', 32);
    const settings = {
      appendTimeoutMs: options.appendTimeoutMs ?? defaults.appendTimeoutMs,
      maxEventBytes: options.maxEventBytes ?? defaults.maxEventBytes,
      sessionTimeoutMs: options.sessionTimeoutMs ?? defaults.sessionTimeoutMs,
      transactionTimeoutMs: options.transactionTimeoutMs ?? defaults.transactionTimeoutMs,
      maxConcurrentTransactions: options.maxConcurrentTransactions ?? 2 * availableParallelism(),
    };
    for (const [name, value] of Object.entries(settings)) validatePositiveInteger(value, name);
    const log = options.log ?? (() => undefined);

    const connection: KafkaConnection = { brokers, clientId: options.clientId ?? `scribe-${options.store}` };
    const admin = KafkaAdmin.connect(connection);
    const layout = await ensureTopics(admin, options.store, partitions, replicationFactor);
    const dataDir = resolve(options.dataDir ?? join('.scribe', options.store, `${hostname()}-${process.pid}`));
    mkdirSync(dataDir, { recursive: true });
    const index = await StreamIndex.open(join(dataDir, 'index'), layout.eventsTopicId);
    log(index.rebuilt ? `index ${dataDir}: new or unusable, building it from Kafka` : `index ${dataDir}: reused, catching up from its checkpoints`);
    const follower = await IndexFollower.start(connection, layout.topics.events, index);
    const remote = await RemoteAppends.start(connection, admin, layout.topics, layout.replyPartitions);
    const endOffset = async (partition: number) => (await admin.endOffsets(layout.topics.events, [partition])).get(partition) ?? 0;
    const writers =
      options.writer === false
        ? undefined
        : await WriterGroup.join({
            connection,
            store: options.store,
            topics: layout.topics,
            replyPartitions: layout.replyPartitions,
            index,
            follower,
            endOffset,
            sessionTimeoutMs: settings.sessionTimeoutMs,
            timeoutMs: Math.min(settings.appendTimeoutMs, 30_000),
            transactionTimeoutMs: settings.transactionTimeoutMs,
            maxConcurrentTransactions: settings.maxConcurrentTransactions,
            maxBatch: defaults.maxBatch,
            log,
          });
    return new EventStore(connection, layout, admin, index, follower, remote, writers, settings);
  }

  /** The store's partition count. */
  get partitions(): number {
    return this.layout.partitions;
  }

  /** Partitions this process owns right now (empty for `writer: false`). */
  get ownedPartitions(): number[] {
    return this.writers?.ownedPartitions() ?? [];
  }

  /** The partition of the events topic that holds the stream (or the given partition key). */
  partitionOf(streamIdOrKey: string): number {
    return partitionForKey(streamIdOrKey, this.layout.partitions);
  }

  async append(streamId: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    this.ensureOpen('append');
    validateStreamId(streamId);
    if (typeof options !== 'object' || options === null || !('expectedVersion' in options)) {
      throw new InvalidArgumentError('expectedVersion', "is required: the version the stream is at, 'no_stream', 'stream_exists', or 'any' to opt out");
    }
    validateExpectedVersion(options.expectedVersion);
    const partitionKey = options.partitionKey ?? streamId;
    if (options.partitionKey !== undefined) validateStreamId(options.partitionKey, 'partitionKey');
    const encoded = encodeEvents(events, this.settings.maxEventBytes);
    const partition = partitionForKey(partitionKey, this.layout.partitions);
    const deadline = Date.now() + this.settings.appendTimeoutMs;

    // An ownership change answers "nothing stored": route again to the new owner until the deadline.
    for (let attempt = 0; ; attempt++) {
      this.ensureOpen('append');
      try {
        const writer = this.writers?.writerFor(partition);
        if (writer) {
          return await new Promise<AppendResult>((resolve, reject) =>
            writer.enqueue({ streamId, partitionKey, expectedVersion: options.expectedVersion, events: encoded, resolve, reject }),
          );
        }
        return await this.remote.append({ streamId, partitionKey, partition, expectedVersion: options.expectedVersion, events: encoded }, Math.max(1, deadline - Date.now()));
      } catch (error) {
        if (!(error instanceof OwnershipChangedError) || Date.now() + 50 >= deadline) throw error;
        await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** attempt)));
      }
    }
  }

  /**
   * The stream's events, served from the local index once it holds everything committed to
   * the stream's partition before this call (read-your-writes across processes).
   */
  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.ensureOpen('readStream');
    validateStreamId(streamId);
    const direction = options.direction ?? 'forwards';
    if (direction !== 'forwards' && direction !== 'backwards') throw new InvalidArgumentError('direction', "must be 'forwards' or 'backwards'");
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    validatePositiveInteger(maxCount, 'maxCount');
    if (options.fromVersion !== undefined && (!Number.isSafeInteger(options.fromVersion) || options.fromVersion < 0)) {
      throw new InvalidArgumentError('fromVersion', `${JSON.stringify(options.fromVersion)} must be an integer >= 0`);
    }
    const partition = partitionForKey(options.partitionKey ?? streamId, this.layout.partitions);
    await this.catchUp(partition);
    const head = this.index.head(streamId);
    if (head < 0) throw new StreamNotFoundError(streamId);
    // Pages keep memory bounded for long streams; each page is read in one go (see StreamIndex.read).
    let next = options.fromVersion ?? (direction === 'forwards' ? 0 : head);
    let remaining = maxCount;
    while (remaining > 0) {
      const page = await this.index.read(streamId, next, direction, Math.min(remaining, readPageSize));
      for (const stored of page) yield recordedEvent(stored);
      if (page.length < Math.min(remaining, readPageSize)) return;
      remaining -= page.length;
      next = page[page.length - 1]!.version + (direction === 'forwards' ? 1 : -1);
      if (next < 0) return;
    }
  }

  /** Every committed event of the store, in per-partition order, catch-up then live. */
  async subscribe(options: SubscribeOptions, handler: EventHandler): Promise<Subscription> {
    this.ensureOpen('subscribe');
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', 'must be a function');
    const from = options.from ?? 'start';
    if (from !== 'start' && from !== 'end' && !Array.isArray(from)) throw new InvalidArgumentError('from', "must be 'start', 'end' or a list of positions");
    if (options.name !== undefined) validateStreamId(options.name, 'name');
    const { events } = this.layout.topics;
    const subscription = await Subscription.start(
      this.connection,
      events,
      this.layout.partitions,
      () => this.admin.endOffsets(events, Array.from({ length: this.layout.partitions }, (_, p) => p), 'read_committed'),
      options.name === undefined ? options : { ...options, name: `${this.layout.topics.events}.subscription.${options.name}` },
      handler,
    );
    this.subscriptions.add(subscription);
    void subscription.done.catch(() => undefined).finally(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.writers?.leave();
    await this.remote.stop();
    await this.follower.stop();
    this.admin.disconnect();
    await this.index.close();
  }

  /** Waits until the local index holds everything committed to the partition before now. */
  private async catchUp(partition: number): Promise<void> {
    const writer = this.writers?.writerFor(partition);
    if (writer) {
      // The owner writes the index itself when it commits.
      await writer.ready();
      if (this.writers?.writerFor(partition) === writer) return;
    }
    const { events } = this.layout.topics;
    const stable = (await this.admin.endOffsets(events, [partition], 'read_committed')).get(partition) ?? 0;
    if (this.index.checkpoint(partition) >= stable) return;
    if (!this.writers?.writerFor(partition)) this.follower.follow(partition);
    await this.follower.caughtUp(partition, stable);
  }

  private ensureOpen(operation: string): void {
    if (this.closed) throw new StoreClosedError(operation);
  }
}

