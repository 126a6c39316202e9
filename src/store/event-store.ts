// The public event store: connect, append with optimistic concurrency, read a stream,
// subscribe, close. Appends go to the partition's owner: this process when it owns the
// partition (the fast path), else through `<store>.appends`.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describeValue, InvalidArgumentError, type ScribeError } from '../errors.js';
import { parkedClients, type KafkaAdmin, type KafkaConnection } from '../kafka/index.js';
import { loadAggregate } from '../aggregates/aggregate-state.js';
import { type AnyDecider, type CommandRunner, type ExecuteResult } from '../aggregates/command-runner.js';
import type { Decider, DomainEvent, LoadedState } from '../aggregates/decider.js';
import type { Instrumentation } from '../instrumentation/instrumentation.js';
import type { StoreListener } from '../instrumentation/store-events.js';
import { withTraceContext, type OperationTrace, type StoreTracer } from '../instrumentation/tracing.js';
import { writerGroupId, type WriterGroup } from '../ownership/writer-group.js';
import type { Owner } from '../owner-protocol/messages.js';
import type { EncodedEvent } from '../records/event-record.js';
import type { PendingSnapshot } from '../appends/append-batch.js';
import type { RoutingLog } from '../partitioning/routing-log.js';
import { producerFactoryOption, type ProducerFactory } from '../writer/producer-factory.js';
import type { ShardMove } from '../partitioning/routing.js';
import {
  type AppendOptions,
  type EventStore,
  type ExecuteOptions,
  type HandleOptions,
  type HandleResult,
  type LoadOptions,
  type ReadStreamOptions,
  type StoreHealth,
  type SubscriptionStart,
} from '../contract/event-store.js';
import type { EventReader } from '../schemas/event-schemas.js';
import type { IndexFollower } from '../stream-index/follower.js';
import type { StreamIndex } from '../stream-index/stream-index.js';
import { AppendOutcomeUnknownError, OwnershipChangedError, StoreClosedError } from '../streams/errors.js';
import type { AppendResult, EventData, RecordedEvent } from '../streams/event.js';
import type { ExpectedVersion } from '../streams/expected-version.js';
import { composeStore, type CompositionProbe, type StoreParts } from './composition.js';
import { growStore, type GrowOptions, type GrowthResult } from './growth.js';
import { localOwner } from './local-owner.js';
import type { RemoteAppends } from './remote-appends.js';
import { Subscription, type EventHandler, type SubscribeOptions } from './subscription.js';
import { appendArguments, batchSubscribeArguments, executeArguments, lagArguments, handleArguments, loadArguments, readArguments, subscribeArguments } from './operation-arguments.js';
import { handleCommand } from './handle-command.js';
import { readStreamPages } from './read-stream.js';
import type { StoreLayout } from './topics.js';
import { BatchSubscription, type BatchHandler, type BatchSubscribeOptions } from './batch-subscription.js';
import { lagBehind, type PartitionLag } from './lag.js';
import { storeHealth } from './health.js';
import type { WriterStates } from './writer-states.js';
import { runProjection, type RunnableProjection, type RunningProjection } from './projection-source.js';
import type { Position } from '../streams/event.js';
import { validateConnectOptions, type ConnectOptions } from './connect-options.js';
import {
  encodeEvents,
  validateDecider,
  validateName,
  validateOptions,
  validateStreamId,
  type EventEncoding,
} from './validation.js';


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


/** The event store on Kafka: the contract, plus what only a Kafka store has (growth, routing, ownership). */
export class KafkaEventStore implements EventStore {
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Per partition, the offset this process's reads reach at least: past every append acknowledged to it. */
  private readonly readFloor = new Map<number, number>();
  private readonly subscriptions = new Set<Subscription | BatchSubscription>();
  private readonly connection: KafkaConnection;
  private readonly layout: StoreLayout;
  private readonly admin: KafkaAdmin;
  private readonly index: StreamIndex;
  private readonly follower: IndexFollower;
  private readonly routing: RoutingLog;
  private readonly remote: RemoteAppends;
  private readonly writers: WriterGroup | undefined;
  private readonly commands: CommandRunner;
  private readonly read: EventReader;
  private readonly instrumentation: Instrumentation;
  private readonly tracer: StoreTracer | undefined;
  private readonly writerStates: WriterStates;
  /** This process's owners, one per writer: the same writer is reached through the same owner. */
  private readonly localOwners = new WeakMap<object, Owner>();

  private constructor(
    parts: StoreParts,
    private readonly settings: { appendTimeoutMs: number; closeTimeoutMs: number; maxEventBytes: number; encoding: EventEncoding },
  ) {
    ({
      connection: this.connection,
      layout: this.layout,
      admin: this.admin,
      index: this.index,
      follower: this.follower,
      routing: this.routing,
      remote: this.remote,
      writers: this.writers,
      commands: this.commands,
      read: this.read,
      instrumentation: this.instrumentation,
      tracer: this.tracer,
      writerStates: this.writerStates,
    } = parts);
  }

  static async connect(options: ConnectOptions): Promise<KafkaEventStore> {
    // Not a public option: fault specifications hand in a producer factory under a symbol.
    const producers = (options as { [producerFactoryOption]?: ProducerFactory } | undefined)?.[producerFactoryOption];
    return KafkaEventStore.compose(options, producers ? { producers } : {});
  }

  /** @internal `connect` with a probe into its steps (the lifecycle specification fails each in turn). */
  static async compose(options: ConnectOptions, probe: CompositionProbe): Promise<KafkaEventStore> {
    // Every option is checked before any client starts: a refused connect leaves nothing behind.
    const valid = validateConnectOptions(options);
    const parts = await composeStore(valid, probe);
    return new KafkaEventStore(parts, { ...valid.settings, encoding: parts.encoding });
  }

  /**
   * Adds a listener for the store's typed events (as the `on` connect option does); the
   * function returned removes it.
   */
  observe(listener: StoreListener): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener', `must be a function, got ${describeValue(listener)}`);
    return this.instrumentation.observe(listener);
  }

  /** The store's name: the prefix of its topics. */
  get name(): string {
    return this.layout.store;
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
        await this.routed('grow', '', () => from, 0, (owner, remainingMs) => owner.seal({ kind: 'seal', generation, to }, remainingMs));
        return;
      } catch (error) {
        if ((!(error instanceof AppendOutcomeUnknownError) && !(error instanceof OwnershipChangedError)) || Date.now() > deadline) throw error;
        this.notice(`grow: sealing shard ${from}->${to}: ${error.message}; asking again`);
        await this.routing.caughtUp();
      }
    }
  }

  async append(streamId: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    this.ensureOpen('append');
    const valid = appendArguments(streamId, events, options, this.settings.maxEventBytes, this.settings.encoding);
    return this.appendEncoded(streamId, valid.partitionKey, valid.events, valid.expectedVersion);
  }

  private appendEncoded(streamId: string, partitionKey: string, events: EncodedEvent[], expectedVersion: ExpectedVersion, snapshot?: PendingSnapshot): Promise<AppendResult> {
    const trace = this.tracer?.start({ kind: 'append', streamId, expectedVersion: String(expectedVersion), events: events.length });
    // The trace context goes into each event's metadata: subscribers and projections continue it.
    let carried = events;
    if (trace?.carrier.traceparent !== undefined) {
      const alone = JSON.stringify(trace.carrier);
      carried = events.map((e) => ({ ...e, metadata: e.metadata === undefined ? alone : withTraceContext(e.metadata, trace.carrier) }));
    }
    const traced = trace?.carrier.traceparent === undefined ? {} : { trace: trace.carrier };
    return this.routed(
      'append',
      streamId,
      () => this.routing.table.partitionOf(partitionKey),
      events.length,
      (owner, remainingMs) => owner.append({ kind: 'append', streamId, partitionKey, expectedVersion, events: carried, ...(snapshot ? { snapshot } : {}), ...traced }, remainingMs),
      trace,
    );
  }

  /**
   * Remembers the position of an append another process acknowledged: this process's reads
   * catch up at least that far. The reply is visible as soon as the transaction commits, but
   * the coordinator writes each partition's commit marker on its own time (seconds, around a
   * leader change), and until then the partition's last stable offset stays below the event.
   */
  private acknowledged<T extends AppendResult>(result: T): T {
    const { partition, offset } = result.position;
    const next = Number(offset) + 1;
    if (next > (this.readFloor.get(partition) ?? 0)) this.readFloor.set(partition, next);
    return result;
  }

  /** The partition's owner as this process reaches it: its own writer, or the owner through the appends topic. */
  private ownerOf(partition: number): Owner {
    const writer = this.writers?.writerFor(partition);
    if (!writer) return this.remote.ownerOf(partition);
    let owner = this.localOwners.get(writer);
    if (!owner) this.localOwners.set(writer, (owner = localOwner(writer, this.commands)));
    return owner;
  }

  /**
   * Sends a request to the partition's owner. An ownership change (or a shard that moved)
   * answers "nothing stored": route again until the deadline. Each append or command settles
   * as one `append-settled` event.
   */
  private async routed<T>(operation: string, streamId: string, route: () => number, events: number, send: (owner: Owner, remainingMs: number) => Promise<T>, trace?: OperationTrace): Promise<T> {
    const began = performance.now();
    const deadline = Date.now() + this.settings.appendTimeoutMs;
    let where: Owner['where'] = 'remote';
    let partition = -1;
    const settled = (outcome: string, result?: T, error?: unknown) => {
      if (operation !== 'grow' && this.instrumentation.active) this.instrumentation.emit({ type: 'append-settled', streamId, partition, owner: where, outcome, events, durationMs: Math.round((performance.now() - began) * 1000) / 1000 });
      trace?.end({ partition, owner: where, outcome, ...(result ? { position: (result as unknown as AppendResult).position } : {}), ...(error === undefined ? {} : { error }) });
    };
    for (let attempt = 0; ; attempt++) {
      try {
        this.ensureOpen(operation);
        partition = route();
        const owner = this.ownerOf(partition);
        where = owner.where;
        const result = await send(owner, Math.max(1, deadline - Date.now()));
        if (where === 'remote' && operation !== 'grow') this.acknowledged(result as AppendResult);
        settled('ok', result);
        return result;
      } catch (error) {
        if (!(error instanceof OwnershipChangedError) || Date.now() + 50 >= deadline) {
          settled((error as Partial<ScribeError>).code ?? 'ERROR', undefined, error);
          throw error;
        }
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
   * against the latest state: no conflicts, no retries. A refusal by the decider comes back as
   * CommandRejectedError wherever the owner runs (the decider's error's name, code and message;
   * its `cause` is the decider's error itself when the owner is this process).
   */
  async execute<Event extends DomainEvent = DomainEvent>(name: string, streamId: string, command: unknown, options: ExecuteOptions = {}): Promise<ExecuteResult<Event>> {
    this.ensureOpen('execute');
    const valid = executeArguments(name, streamId, command, options, this.settings.maxEventBytes);
    const { payload, partitionKey } = valid;
    const commandId = valid.commandId ?? randomUUID();
    const trace = this.tracer?.start({ kind: 'command', streamId, events: 0, decider: name });
    const traced = trace?.carrier.traceparent === undefined ? {} : { trace: trace.carrier };
    const result = await this.routed(
      'execute',
      streamId,
      () => this.routing.table.partitionOf(partitionKey),
      0,
      (owner, remainingMs) => owner.execute({ kind: 'command', streamId, partitionKey, decider: name, commandId, payload, ...traced }, remainingMs),
      trace,
    );
    if (result.events) return { nextExpectedVersion: result.nextExpectedVersion, position: result.position, events: result.events as readonly Event[] };
    return { ...result, events: (await this.commandEvents(commandId, streamId, partitionKey, result)) as Event[] };
  }

  /** The events of a command a remote owner applied: read from the log (the index catches up first). */
  private async commandEvents(commandId: string, streamId: string, partitionKey: string, result: AppendResult): Promise<DomainEvent[]> {
    const events: DomainEvent[] = [];
    if (result.nextExpectedVersion < 0) return events;
    await this.indexed(result.position);
    for await (const e of this.readStream(streamId, { partitionKey, fromVersion: Math.max(0, result.nextExpectedVersion), direction: 'backwards' })) {
      if (!e.id.startsWith(`${commandId}/`)) break;
      events.unshift({ type: e.type, data: e.data, ...(Object.keys(e.metadata).length > 0 ? { metadata: e.metadata } : {}) });
    }
    return events;
  }

  /** The stream's state: its latest snapshot of the decider's snapshot version, then the events after it. */
  async load<State, Event extends DomainEvent>(decider: Decider<State, unknown, Event>, streamId: string, options: LoadOptions = {}): Promise<LoadedState<State>> {
    this.ensureOpen('load');
    validateDecider(decider);
    const { partitionKey } = loadArguments(streamId, options);
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
    const valid = handleArguments(streamId, options);
    const partitionKey = valid.partitionKey ?? streamId;
    const loadOptions = valid.partitionKey === undefined ? {} : { partitionKey };
    return handleCommand(
      {
        load: () => this.loadState(decider as Decider<State, unknown, DomainEvent>, streamId, loadOptions),
        encode: (events) => encodeEvents(events, this.settings.maxEventBytes, this.settings.encoding),
        append: (events, expectedVersion, snapshot) => this.appendEncoded(streamId, partitionKey, events, expectedVersion, snapshot),
      },
      decider,
      streamId,
      command,
      valid,
    );
  }

  /**
   * The stream's events, served from the local index once it holds everything committed to
   * the stream's partition before this call (read-your-writes across processes).
   */
  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.ensureOpen('readStream');
    const valid = readArguments(streamId, options);
    await this.catchUpStream(valid.partitionKey);
    yield* readStreamPages(this.index, this.read, streamId, valid);
  }

  /** Every committed event of the store, in per-partition order, catch-up then live. */
  async subscribe(options: SubscribeOptions, handler: EventHandler): Promise<Subscription> {
    this.ensureOpen('subscribe');
    const { name, from, stopTimeoutMs } = subscribeArguments(options, handler, this.routing.table.partitions);
    const { tracer } = this;
    const given = handler;
    // With tracing, each event is handled in a span that continues the trace it was appended in.
    const group = name === undefined ? '' : `${this.layout.topics.events}.subscription.${name}`;
    if (tracer) handler = (event) => tracer.handle(group, event, () => given(event));
    options = { ...(name === undefined ? {} : { name }), from, stopTimeoutMs };
    const { events } = this.layout.topics;
    const subscription = await Subscription.start(
      this.connection,
      events,
      this.routing,
      (partitions) => this.admin.endOffsets(events, partitions, 'read_committed'),
      options.name === undefined ? options : { ...options, name: `${this.layout.topics.events}.subscription.${options.name}` },
      handler,
      this.read,
      this.instrumentation,
    );
    this.subscriptions.add(subscription);
    void subscription.done.catch(() => undefined).finally(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  /**
   * Every committed event of the store in batches, shared by the processes subscribing under
   * the same name (each partition read by one of them at a time), from the checkpoints the
   * `checkpoints` store holds (default: the Kafka consumer group, committed after each batch).
   */
  async subscribeBatches(options: BatchSubscribeOptions, handler: BatchHandler): Promise<BatchSubscription> {
    this.ensureOpen('subscribeBatches');
    const { settings, from } = batchSubscribeArguments(options, handler, this.routing.table.partitions, (line) => this.notice(line));
    const { events } = this.layout.topics;
    const { instrumentation } = this;
    const lag = { get active() { return instrumentation.active; }, emit: instrumentation.emit, endOffsets: (partitions: number[]) => this.admin.endOffsets(events, partitions, 'read_committed') };
    const { tracer } = this;
    const traced: BatchHandler = tracer ? (batch) => tracer.handleBatch(`${events}.subscription.${settings.name}`, batch.events, async () => handler(batch)) : handler;
    const starts = await this.startsOf(from);
    const subscription = await BatchSubscription.start(this.connection, events, `${events}.subscription.${settings.name}`, settings, traced, this.read, starts, lag);
    this.subscriptions.add(subscription);
    void subscription.done.catch(() => undefined).finally(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  /**
   * Runs a projection on this store: its runner (brought by the projection, e.g. from
   * `scribe/postgres`) reads the store's batch subscriptions and keeps its own checkpoints.
   * Stopped by its handle's `stop()`, or by `close()`.
   */
  async project<Options, Running extends RunningProjection>(projection: RunnableProjection<Options, Running>, options: Options): Promise<Running> {
    this.ensureOpen('project');
    return runProjection(this, projection, options);
  }

  /** Per partition, the next offset a subscription starting at `from` reads (partitions not listed: their first). */
  private async startsOf(from: SubscriptionStart): Promise<Map<number, number>> {
    if (from === 'start') return new Map();
    if (from === 'end') {
      const partitions = Array.from({ length: this.routing.table.partitions }, (_, partition) => partition);
      return this.admin.endOffsets(this.layout.topics.events, partitions, 'read_committed');
    }
    return new Map(from.map((p) => [p.partition, Number(BigInt(p.offset) + 1n)]));
  }

  /**
   * How far a checkpoint (the position of the last record handled per partition) is behind
   * the log: per partition, the records not handled yet and the age of the oldest.
   */
  async lag(checkpoint: readonly Position[]): Promise<PartitionLag[]> {
    this.ensureOpen('lag');
    const positions = lagArguments(checkpoint, this.routing.table.partitions);
    return lagBehind(this.connection, this.admin, this.layout.topics.events, this.routing.table.partitions, positions);
  }

  /**
   * Whether this process is fit for traffic, for a readiness probe: the store is open, and each
   * partition it owns has a writer that takes appends; with its subscriptions' lag.
   */
  async health(): Promise<StoreHealth> {
    const owned = this.ownedPartitions;
    return storeHealth({
      closed: this.closed,
      writer: this.writers !== undefined,
      owned,
      writerState: (partition) => (this.writers?.writerFor(partition) ? this.writerStates.of(partition) : 'stopped'),
      subscriptions: [...this.subscriptions].map((s) => s.progress()),
      endOffsets: (partitions) => this.admin.endOffsets(this.layout.topics.events, partitions, 'read_committed'),
    });
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
        (error: unknown) => void this.notice(`close: ${String(error)}`),
      );
      if ((await Promise.race([stopped, deadline])) === 'late') {
        this.notice(`close: Kafka clients still stopping after ${this.settings.closeTimeoutMs} ms; closing the index anyway`);
      }
      await this.index.close();
      const parked = parkedClients();
      if (parked.length > 0) this.notice(`close: destroyed once their calls return: ${parked.join('; ')}`);
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
      // The owner writes the index itself when it commits: a commit another process has seen
      // answered is in the index once the transaction in flight is.
      await writer.ready();
      await writer.settled();
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

  private notice(message: string): void {
    this.instrumentation.emit({ type: 'notice', message });
  }

  private ensureOpen(operation: string): void {
    if (this.closed) throw new StoreClosedError(operation);
  }
}
