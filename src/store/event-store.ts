// The public event store: connect, append with optimistic concurrency, read a stream,
// subscribe, close. Appends go to the partition's owner: this process when it owns the
// partition (the fast path), else through `<store>.appends`.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeValue, InvalidArgumentError, TimeoutError, withTimeout } from '../errors.js';
import { KafkaAdmin, parkedClients, type KafkaConnection } from '../kafka/index.js';
import { evolveWith, loadAggregate, snapshotIfDue } from '../aggregates/aggregate-state.js';
import { CommandRunner, decideOrRefuse, validateDecision, type AnyDecider, type ExecuteResult } from '../aggregates/command-runner.js';
import type { Decider, DomainEvent, LoadedState } from '../aggregates/decider.js';
import { WriterGroup, writerGroupId } from '../ownership/writer-group.js';
import type { EncodedEvent } from '../records/event-record.js';
import type { PartitionWriter, PendingSnapshot } from '../writer/partition-writer.js';
import { RoutingLog } from '../partitioning/routing-log.js';
import type { ShardMove } from '../partitioning/routing.js';
import { eventReader, type EventReader } from '../schemas/event-schemas.js';
import { RegisteredSchemas } from '../schemas/schema-registry.js';
import { IndexFollower } from '../stream-index/follower.js';
import { StreamIndex } from '../stream-index/stream-index.js';
import { AppendOutcomeUnknownError, OwnershipChangedError, StoreClosedError, StreamNotFoundError, WrongExpectedVersionError } from '../streams/errors.js';
import type { AppendResult, EventData, RecordedEvent } from '../streams/event.js';
import { validateExpectedVersion, type ExpectedVersion } from '../streams/expected-version.js';
import { growStore, type GrowOptions, type GrowthResult } from './growth.js';
import { RemoteAppends } from './remote-appends.js';
import { defaultStopTimeoutMs, Subscription, validateSubscriptionStart, type EventHandler, type SubscribeOptions } from './subscription.js';
import { ensureTopics, topicNames, type StoreLayout } from './topics.js';
import { checkTopicAccess, checkWriterAccess } from './access.js';
import { defaults, validateConnectOptions, type ConnectOptions } from './connect-options.js';
import {
  encodeEvents,
  integerOption,
  maxTimeoutMs,
  messageOf,
  oneOf,
  validateCommand,
  validateDecider,
  validateName,
  validateOptions,
  validateStreamId,
  type EventEncoding,
} from './validation.js';


export interface AppendOptions {
  /** Required: the version the stream is expected to be at, or 'any' to opt out of the check. */
  readonly expectedVersion: ExpectedVersion;
  /** Puts the stream in the partition of this key instead of its own id (streams sharing a key share a partition). */
  readonly partitionKey?: string;
}

export interface LoadOptions {
  /** The partition key the stream was appended with, when it was not its id. */
  readonly partitionKey?: string;
}

export interface HandleOptions extends LoadOptions {
  /** How often a command is decided again after a conflicting append (default 20). */
  readonly maxRetries?: number;
  /** Waits between retries: doubling from `initialMs`, capped at `maxMs`, with full jitter (default 5 and 500 ms). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface HandleResult<State, Event extends DomainEvent> {
  readonly state: State;
  /** The stream's version after the command (unchanged when the decider returned no events). */
  readonly nextExpectedVersion: number;
  readonly events: readonly Event[];
  /** Times the command was decided again after a conflict. */
  readonly retries: number;
}

export interface ExecuteOptions extends LoadOptions {
  /** Makes `execute` idempotent across retries: a command id is applied at most once (default: a new UUID). */
  readonly commandId?: string;
}

/** The routing table as `scribe partitions status` shows it. */
export interface RoutingStatus {
  /** Partition count by generation; the last is the store's. */
  readonly generations: readonly number[];
  readonly partitions: number;
  /** The latest generation's shard moves so far. */
  readonly moves: readonly ShardMove[];
  /** Moves of the latest generation not completed: not sealed yet, or sealed and not opened. */
  readonly pending: readonly { readonly from: number; readonly to: number; readonly state: 'planned' | 'sealed' }[];
}

export interface ReadStreamOptions {
  /** First version to read (default 0 forwards, the last event backwards). */
  readonly fromVersion?: number;
  readonly direction?: ReadDirection;
  readonly maxCount?: number;
  /** The partition key the stream was appended with, when it was not its id. */
  readonly partitionKey?: string;
}

const readPageSize = 1_000;

export const readDirections = ['forwards', 'backwards'] as const;
export type ReadDirection = (typeof readDirections)[number];

/** A command id becomes the prefix of its events' ids (`<commandId>/<n>`). */
const maxCommandIdBytes = 120;


export class EventStore {
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Per partition, the offset this process's reads reach at least: past every append acknowledged to it. */
  private readonly readFloor = new Map<number, number>();
  private readonly subscriptions = new Set<Subscription>();

  private constructor(
    private readonly connection: KafkaConnection,
    private readonly layout: StoreLayout,
    private readonly admin: KafkaAdmin,
    private readonly index: StreamIndex,
    private readonly follower: IndexFollower,
    private readonly routing: RoutingLog,
    private readonly remote: RemoteAppends,
    private readonly writers: WriterGroup | undefined,
    private readonly commands: CommandRunner,
    private readonly read: EventReader,
    private readonly settings: { appendTimeoutMs: number; closeTimeoutMs: number; maxEventBytes: number; encoding: EventEncoding; log: (line: string) => void },
  ) {}

  static async connect(options: ConnectOptions): Promise<EventStore> {
    // Every option is checked before any client starts: a refused connect leaves nothing behind.
    const valid = validateConnectOptions(options);
    const { store: storeName, brokers, partitions, replicationFactor, settings, log } = valid;
    const connection: KafkaConnection = { brokers, clientId: valid.clientId, ...(valid.security ? { security: valid.security } : {}) };
    const dataDir = valid.dataDir;
    // Before any topic exists: an incompatible schema must fail the deploy, not a later append,
    // and a connect refused for it must not have created the store.
    const encoding: EventEncoding = {
      ...(valid.schemas ? { schemas: valid.schemas } : {}),
      ...(valid.schemaRegistry && valid.schemas ? { registry: await RegisteredSchemas.register(valid.schemaRegistry, topicNames(storeName).events, valid.schemas) } : {}),
    };
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (error) {
      throw new InvalidArgumentError('dataDir', `${JSON.stringify(dataDir)} cannot be created: ${messageOf(error)}`);
    }
    await StreamIndex.ensureNotInUse(join(dataDir, 'index'), 'dataDir');

    // What has started so far, stopped in reverse order when a later step fails.
    const started: (() => unknown)[] = [];
    try {
      const admin = KafkaAdmin.connect(connection);
      started.push(() => admin.disconnect());
      const layout = await ensureTopics(admin, storeName, partitions, replicationFactor).catch((error: unknown) => {
        // Name the address: an unreachable broker shows itself as a timeout here.
        if (error instanceof TimeoutError) throw new TimeoutError(`${error.operation} on brokers ${brokers.join(',')} (unreachable, or not a Kafka broker?)`, error.timeoutMs);
        throw error;
      });
      await checkTopicAccess(admin, layout.topics, valid.writer);
      if (valid.writer && valid.security) await checkWriterAccess(connection, storeName, writerGroupId(storeName), Math.min(settings.appendTimeoutMs, 30_000));
      const index = await StreamIndex.open(join(dataDir, 'index'), layout.eventsTopicId);
      started.push(() => index.close());
      log(index.rebuilt ? `index ${dataDir}: new or unusable, building it from Kafka` : `index ${dataDir}: reused, catching up from its checkpoints`);
      const follower = await IndexFollower.start(connection, layout.topics, index);
      started.push(() => follower.stop());
      const routing = await RoutingLog.open(connection, admin, layout.topics.routing, () => Promise.resolve(layout.partitions));
      started.push(() => routing.stop());
      const remote = await RemoteAppends.start(connection, admin, layout.topics, layout.replyPartitions);
      started.push(() => remote.stop());
      const endOffset = async (partition: number) => (await admin.endOffsets(layout.topics.events, [partition])).get(partition) ?? 0;
      const read = eventReader(valid.schemas, valid.onUnknownEvent);
      const commands = new CommandRunner(
        read,
        index,
        (events, ids) => {
          validateDecision(events);
          return encodeEvents(events.map((event, i) => (typeof event === 'object' && event !== null ? { ...event, id: ids[i]! } : event)), settings.maxEventBytes, encoding);
        },
        defaults.maxCommandStates,
      );
      const writers = !valid.writer
        ? undefined
        : await WriterGroup.join({
            connection,
            store: storeName,
            topics: layout.topics,
            replyPartitions: layout.replyPartitions,
            index,
            follower,
            routing,
            endOffset,
            sessionTimeoutMs: settings.sessionTimeoutMs,
            timeoutMs: Math.min(settings.appendTimeoutMs, 30_000),
            transactionTimeoutMs: settings.transactionTimeoutMs,
            maxConcurrentTransactions: settings.maxConcurrentTransactions,
            maxBatch: defaults.maxBatch,
            log,
            onCommand: (request, writer, origin) => {
              const command = request.command!;
              const ignore = () => undefined; // the requester learns the outcome from the reply
              commands.run(
                { decider: command.decider, commandId: command.id, streamId: request.streamId, partitionKey: request.partitionKey, command: JSON.parse(command.payload) as unknown, remote: origin },
                writer,
                { resolve: ignore, reject: ignore },
              );
            },
          });
      return new EventStore(connection, layout, admin, index, follower, routing, remote, writers, commands, read, { ...settings, encoding, log });
    } catch (error) {
      for (const stop of started.reverse()) {
        try {
          await stop();
        } catch {
          // The connect's own error is the one to report.
        }
      }
      throw error;
    }
  }

  /** The store's partition count (the latest generation's, see `grow`). */
  get partitions(): number {
    return this.routing.table.partitions;
  }

  /** Partitions this process owns right now (empty for `writer: false`). */
  get ownedPartitions(): number[] {
    return this.writers?.ownedPartitions() ?? [];
  }

  /** The partition of the events topic that takes the stream's (or the partition key's) appends now. */
  partitionOf(streamIdOrKey: string): number {
    validateStreamId(streamIdOrKey, 'streamIdOrKey');
    return this.routing.table.partitionOf(streamIdOrKey);
  }

  /**
   * Raises the store's partition count while it runs: adds partitions to its topics, then
   * moves the shards whose partition changes, each sealed by its old owner and opened by its
   * new one (docs/decisions/0005-online-growth.md). Needs writer processes to own the
   * partitions. Call it again with the same count to finish a growth that was interrupted.
   */
  async grow(partitions: number, options: GrowOptions = {}): Promise<GrowthResult> {
    this.ensureOpen('grow');
    validateOptions(options);
    return growStore(
      {
        admin: this.admin,
        topics: this.layout.topics,
        writerGroup: writerGroupId(this.layout.store),
        routing: this.routing,
        seal: (generation, from, to) => this.seal(generation, from, to),
      },
      partitions,
      options,
    );
  }

  /** The routing table: partition counts by generation and the latest growth's shard moves. */
  async routingStatus(): Promise<RoutingStatus> {
    this.ensureOpen('routingStatus');
    await this.routing.caughtUp();
    const table = this.routing.table;
    return { generations: [...table.generations()], partitions: table.partitions, moves: table.currentMoves(), pending: table.pendingMoves() };
  }

  private async seal(generation: number, from: number, to: number): Promise<void> {
    // An answer lost on the way (unknown outcome) is asked again: a sealed shard answers its seal.
    const deadline = Date.now() + 4 * this.settings.appendTimeoutMs;
    for (;;) {
      if (this.routing.table.move(generation, from, to)) return;
      try {
        await this.routed<unknown>('grow', '', () => from, (writer, _partition, remainingMs) =>
          writer
            ? writer.sealShard(generation, to)
            : this.remote.append({ streamId: '', partitionKey: '', partition: from, expectedVersion: 'any', events: [], handOver: { generation, to } }, remainingMs),
        );
        return;
      } catch (error) {
        if ((!(error instanceof AppendOutcomeUnknownError) && !(error instanceof OwnershipChangedError)) || Date.now() > deadline) throw error;
        this.settings.log(`grow: sealing shard ${from}->${to}: ${error.message}; asking again`);
        await this.routing.caughtUp();
      }
    }
  }

  async append(streamId: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    this.ensureOpen('append');
    validateStreamId(streamId);
    if (options === undefined) throw new InvalidArgumentError('expectedVersion', "is required: the version the stream is at, 'no_stream', 'stream_exists', or 'any' to opt out");
    const { expectedVersion, partitionKey: key } = validateOptions(options) as Partial<AppendOptions>;
    if (expectedVersion === undefined) {
      throw new InvalidArgumentError('expectedVersion', "is required: the version the stream is at, 'no_stream', 'stream_exists', or 'any' to opt out");
    }
    validateExpectedVersion(expectedVersion);
    if (key !== undefined) validateStreamId(key, 'options.partitionKey');
    // Encoded (and so checked in full) here, before the append joins anyone else's batch.
    const encoded = encodeEvents(events, this.settings.maxEventBytes, this.settings.encoding);
    return this.appendEncoded(streamId, key ?? streamId, encoded, expectedVersion);
  }

  private appendEncoded(streamId: string, partitionKey: string, events: EncodedEvent[], expectedVersion: ExpectedVersion, snapshot?: PendingSnapshot): Promise<AppendResult> {
    return this.routed('append', streamId, () => this.routing.table.partitionOf(partitionKey), (writer, partition, remainingMs) =>
      writer
        ? new Promise<AppendResult>((resolve, reject) =>
            writer.enqueue({ streamId, partitionKey, expectedVersion, events, ...(snapshot ? { snapshot } : {}), resolve, reject }),
          )
        : this.remote
            .append({ streamId, partitionKey, partition, expectedVersion, events, ...(snapshot ? { snapshot } : {}) }, remainingMs)
            .then((result) => this.acknowledged(result)),
    );
  }

  /**
   * Remembers the position of an append another process acknowledged: this process's reads
   * catch up at least that far. The reply is visible as soon as the transaction commits, but
   * the coordinator writes each partition's commit marker on its own time (seconds, around a
   * leader change), and until then the partition's last stable offset stays below the event.
   */
  private acknowledged(result: AppendResult): AppendResult {
    const { partition, offset } = result.position;
    const next = Number(offset) + 1;
    if (next > (this.readFloor.get(partition) ?? 0)) this.readFloor.set(partition, next);
    return result;
  }

  /**
   * Sends a request to the partition's owner: this process's writer, or the owner through the
   * appends topic. An ownership change (or a shard that moved) answers "nothing stored": route
   * again until the deadline.
   */
  private async routed<T>(
    operation: string,
    streamId: string,
    route: () => number,
    send: (writer: PartitionWriter | undefined, partition: number, remainingMs: number) => Promise<T>,
  ): Promise<T> {
    const deadline = Date.now() + this.settings.appendTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      this.ensureOpen(operation);
      const partition = route();
      const remainingMs = Math.max(1, deadline - Date.now());
      try {
        const writer = this.writers?.writerFor(partition);
        // The remote path bounds itself; a writer of this process that does not answer in time
        // (stuck starting, say) may still apply the request later: its outcome is unknown.
        if (!writer) return await send(undefined, partition, remainingMs);
        return await withTimeout(operation, remainingMs, send(writer, partition, remainingMs)).catch((error: unknown) => {
          if (error instanceof TimeoutError) throw new AppendOutcomeUnknownError(streamId, `${operation} got no answer from the writer of partition ${partition} within ${remainingMs} ms`, { cause: error });
          throw error;
        });
      } catch (error) {
        if (!(error instanceof OwnershipChangedError) || Date.now() + 50 >= deadline) throw error;
        await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** attempt)));
      }
    }
  }

  /**
   * Registers a decider under a name, for `execute`: call it on every writer process (the
   * owner of a stream's partition runs its commands).
   */
  register<State, Command, Event extends DomainEvent>(name: string, decider: Decider<State, Command, Event>): void {
    this.ensureOpen('register');
    validateName(name, 'name');
    validateDecider(decider);
    this.commands.register(name, decider as unknown as AnyDecider);
  }

  /**
   * Runs a command at the owner of the stream's partition with the decider registered there
   * under `name`. Commands on one stream are decided one after the other, in arrival order,
   * against the latest state: no conflicts, no retries. A refusal by the decider comes back
   * as the decider's error (in this process) or as CommandRejectedError (from another).
   */
  async execute<Event extends DomainEvent = DomainEvent>(name: string, streamId: string, command: unknown, options: ExecuteOptions = {}): Promise<ExecuteResult<Event>> {
    this.ensureOpen('execute');
    validateName(name, 'name');
    validateStreamId(streamId);
    const payload = validateCommand(command, this.settings.maxEventBytes);
    const { commandId: id, partitionKey: key } = validateOptions(options) as ExecuteOptions;
    if (id !== undefined) validateName(id, 'options.commandId', maxCommandIdBytes);
    if (key !== undefined) validateStreamId(key, 'options.partitionKey');
    const commandId = id ?? randomUUID();
    const partitionKey = key ?? streamId;
    const result = await this.routed('execute', streamId, () => this.routing.table.partitionOf(partitionKey), (writer, partition, remainingMs) =>
      writer
        ? new Promise<ExecuteResult>((resolve, reject) =>
            this.commands.run({ decider: name, commandId, streamId, partitionKey, command: JSON.parse(payload) as unknown }, writer, { resolve, reject }),
          )
        : this.executeRemotely({ decider: name, id: commandId, payload }, streamId, partitionKey, partition, remainingMs),
    );
    return result as ExecuteResult<Event>;
  }

  private async executeRemotely(
    command: { decider: string; id: string; payload: string },
    streamId: string,
    partitionKey: string,
    partition: number,
    timeoutMs: number,
  ): Promise<ExecuteResult> {
    const result = await this.remote.append({ streamId, partitionKey, partition, expectedVersion: 'any', events: [], command }, timeoutMs);
    // The reply says where the command's events are; read them (the index catches up first).
    const events: DomainEvent[] = [];
    if (result.nextExpectedVersion < 0) return { ...result, events };
    const first = result.nextExpectedVersion;
    await this.indexed(result.position);
    for await (const e of this.readStream(streamId, { partitionKey, fromVersion: Math.max(0, first), direction: 'backwards' })) {
      if (!e.id.startsWith(`${command.id}/`)) break;
      events.unshift({ type: e.type, data: e.data, ...(Object.keys(e.metadata).length > 0 ? { metadata: e.metadata } : {}) });
    }
    return { ...result, events };
  }

  /** The stream's state: its latest snapshot of the decider's snapshot version, then the events after it. */
  async load<State, Event extends DomainEvent>(decider: Decider<State, unknown, Event>, streamId: string, options: LoadOptions = {}): Promise<LoadedState<State>> {
    this.ensureOpen('load');
    validateDecider(decider);
    validateStreamId(streamId);
    const { partitionKey } = validateOptions(options) as LoadOptions;
    if (partitionKey !== undefined) validateStreamId(partitionKey, 'options.partitionKey');
    const { state, version, fromSnapshot } = await this.loadState(decider, streamId, partitionKey === undefined ? {} : { partitionKey });
    return { state, version, ...(fromSnapshot === undefined ? {} : { fromSnapshot }) };
  }

  private async loadState<State, Event extends DomainEvent>(decider: Decider<State, unknown, Event>, streamId: string, options: LoadOptions) {
    await this.catchUpStream(options.partitionKey ?? streamId);
    return loadAggregate(this.read, this.index, decider, streamId);
  }

  /**
   * Client-side command handling: load, decide, append with the loaded version as the
   * expected version; on a conflict, load again and decide again (bounded, with jittered
   * backoff). The decider's errors reach the caller unchanged and append nothing.
   */
  async handle<State, Command, Event extends DomainEvent>(
    decider: Decider<State, Command, Event>,
    streamId: string,
    command: Command,
    options: HandleOptions = {},
  ): Promise<HandleResult<State, Event>> {
    this.ensureOpen('handle');
    validateDecider(decider);
    validateStreamId(streamId);
    const given = validateOptions(options);
    const maxRetries = integerOption(given.maxRetries, 'options.maxRetries', defaults.maxRetries, 0, 1_000_000);
    const backoff = validateOptions(given.backoff, 'options.backoff');
    const initialMs = integerOption(backoff.initialMs, 'options.backoff.initialMs', defaults.backoff.initialMs, 0, 60_000);
    const maxMs = integerOption(backoff.maxMs, 'options.backoff.maxMs', Math.max(initialMs, defaults.backoff.maxMs), 0, 600_000);
    if (maxMs < initialMs) throw new InvalidArgumentError('options.backoff.maxMs', `${maxMs} is below options.backoff.initialMs ${initialMs}`);
    if (given.partitionKey !== undefined) validateStreamId(given.partitionKey, 'options.partitionKey');
    const partitionKey = (given.partitionKey as string | undefined) ?? streamId;
    const loadOptions = given.partitionKey === undefined ? {} : { partitionKey };
    for (let retries = 0; ; retries++) {
      const loaded = await this.loadState(decider, streamId, loadOptions);
      const events = decideOrRefuse(decider as Decider<State, unknown, DomainEvent>, command, loaded.state, streamId) as readonly Event[];
      if (events.length === 0) return { state: loaded.state, nextExpectedVersion: loaded.version, events, retries };
      // Encoded (and so checked in full) before anything folds them into the state.
      const encoded = encodeEvents(events, this.settings.maxEventBytes, this.settings.encoding);
      const { snapshot, state } = snapshotIfDue(decider as Decider<State, unknown, DomainEvent>, evolveWith(decider, loaded, events));
      const expectedVersion = loaded.version < 0 ? 'no_stream' : loaded.version;
      try {
        const result = await this.appendEncoded(streamId, partitionKey, encoded, expectedVersion, snapshot);
        return { state: state.state, nextExpectedVersion: result.nextExpectedVersion, events, retries };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError) || retries >= maxRetries) throw error;
        const ceiling = Math.min(maxMs, initialMs * 2 ** retries);
        await new Promise((r) => setTimeout(r, Math.random() * ceiling));
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
    const given = validateOptions(options) as ReadStreamOptions;
    const direction = oneOf(given.direction, 'options.direction', readDirections, 'forwards');
    const maxCount = integerOption(given.maxCount, 'options.maxCount', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER);
    const fromVersion = given.fromVersion === undefined ? undefined : integerOption(given.fromVersion, 'options.fromVersion', 0, 0, Number.MAX_SAFE_INTEGER);
    if (given.partitionKey !== undefined) validateStreamId(given.partitionKey, 'options.partitionKey');
    await this.catchUpStream(given.partitionKey ?? streamId);
    const head = this.index.head(streamId);
    if (head < 0) throw new StreamNotFoundError(streamId);
    // Pages keep memory bounded for long streams; each page is read in one go (see StreamIndex.read).
    let next = fromVersion ?? (direction === 'forwards' ? 0 : head);
    let remaining = maxCount;
    while (remaining > 0) {
      const page = await this.index.read(streamId, next, direction, Math.min(remaining, readPageSize));
      for (const stored of page) yield* this.read(stored);
      if (page.length < Math.min(remaining, readPageSize)) return;
      remaining -= page.length;
      next = page[page.length - 1]!.version + (direction === 'forwards' ? 1 : -1);
      if (next < 0) return;
    }
  }

  /** Every committed event of the store, in per-partition order, catch-up then live. */
  async subscribe(options: SubscribeOptions, handler: EventHandler): Promise<Subscription> {
    this.ensureOpen('subscribe');
    const given = validateOptions(options);
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `must be a function, got ${describeValue(handler)}`);
    if (given.name !== undefined) validateName(given.name, 'options.name', 200);
    const stopTimeoutMs = integerOption(given.stopTimeoutMs, 'options.stopTimeoutMs', defaultStopTimeoutMs, 1, maxTimeoutMs);
    const from = validateSubscriptionStart(given.from, this.routing.table.partitions);
    options = { ...(given.name === undefined ? {} : { name: given.name as string }), from, stopTimeoutMs };
    const { events } = this.layout.topics;
    const subscription = await Subscription.start(
      this.connection,
      events,
      this.routing,
      (partitions) => this.admin.endOffsets(events, partitions, 'read_committed'),
      options.name === undefined ? options : { ...options, name: `${this.layout.topics.events}.subscription.${options.name}` },
      handler,
      this.read,
    );
    this.subscriptions.add(subscription);
    void subscription.done.catch(() => undefined).finally(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  /**
   * Stops subscriptions, gives up owned partitions and closes every Kafka client. Resolves
   * within about `closeTimeoutMs` (default 30 s) whatever the brokers do: a Kafka client
   * still waiting for a broker then is destroyed once its call returns
   * (docs/decisions/0007-native-calls.md). Every call resolves when closing has finished.
   */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      const stopKafka = (async () => {
        // A subscription whose handler outlived its stopTimeoutMs reports that through its `done`.
        await Promise.all([...[...this.subscriptions].map((s) => s.stop().catch(() => undefined)), this.writers?.leave()]);
        await Promise.all([this.remote.stop(), this.follower.stop(), this.routing.stop()]);
        await this.admin.disconnect();
      })();
      const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), this.settings.closeTimeoutMs).unref());
      const stopped = stopKafka.then(
        () => 'done' as const,
        (error: unknown) => void this.settings.log(`close: ${String(error)}`),
      );
      if ((await Promise.race([stopped, deadline])) === 'late') {
        this.settings.log(`close: Kafka clients still stopping after ${this.settings.closeTimeoutMs} ms; closing the index anyway`);
      }
      await this.index.close();
      const parked = parkedClients();
      if (parked.length > 0) this.settings.log(`close: destroyed once their calls return: ${parked.join('; ')}`);
    })();
    return this.closing;
  }

  /**
   * Waits until the local index holds the position. The reply to a request can overtake the
   * owner's own index update when the owner is this very process (the request went through
   * the appends topic while its writer was starting).
   */
  private async indexed(position: { partition: number; offset: string }): Promise<void> {
    const { partition } = position;
    const next = Number(position.offset) + 1;
    const deadline = Date.now() + this.settings.appendTimeoutMs;
    while (this.index.checkpoint(partition) < next && Date.now() < deadline) {
      if (!this.writers?.writerFor(partition)) {
        this.follower.follow(partition);
        await this.follower.caughtUp(partition, next);
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits until the local index holds everything committed to the stream before now, in every partition its history spans. */
  private async catchUpStream(partitionKey: string): Promise<void> {
    // An owner knows its own partitions' moves as it commits them; anyone else may have missed
    // a move committed a moment ago, and with it where the stream's latest events are.
    if (!this.writers?.writerFor(this.routing.table.partitionOf(partitionKey))) await this.routing.caughtUp();
    await Promise.all(this.routing.table.historyOf(partitionKey).map((partition) => this.catchUp(partition)));
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
    // Read your writes: an append acknowledged to this process may sit above the stable offset still.
    const target = Math.max(stable, this.readFloor.get(partition) ?? 0);
    if (this.index.checkpoint(partition) >= target) return;
    if (!this.writers?.writerFor(partition)) this.follower.follow(partition);
    await this.follower.caughtUp(partition, target);
  }

  private ensureOpen(operation: string): void {
    if (this.closed) throw new StoreClosedError(operation);
  }
}
