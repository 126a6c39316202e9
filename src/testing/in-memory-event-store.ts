// The event store in memory, for users' unit tests: the contract on the same append rules,
// argument checks, command runner, upcasting and snapshots as the Kafka store, with no broker.
// Each append is decided and stored at once, so appends are atomic and in call order.
import { randomUUID } from 'node:crypto';
import { loadAggregate } from '../aggregates/aggregate-state.js';
import { CommandRunner, commandRefusal, validateDecision, type AnyDecider, type ExecuteResult } from '../aggregates/command-runner.js';
import type { Decider, DomainEvent, LoadedState } from '../aggregates/decider.js';
import { decideBatch, writtenResult, type AppendIntent } from '../appends/append-batch.js';
import type { AppendOptions, EventHandler, EventStore, ExecuteOptions, HandleOptions, HandleResult, LoadOptions, ReadStreamOptions, StoreHealth, SubscribeOptions, Subscription } from '../contract/event-store.js';
import { InvalidArgumentError } from '../errors.js';
import { partitionForKey } from '../partitioning/murmur2.js';
import { eventReader, unknownEventPolicies, type EventReader, type EventSchemas, type UnknownEventPolicy } from '../schemas/event-schemas.js';
import { handleCommand } from '../store/handle-command.js';
import { readStreamPages } from '../store/read-stream.js';
import {
  appendArguments,
  batchSubscribeArguments,
  executeArguments,
  handleArguments,
  loadArguments,
  operationDefaults,
  readArguments,
  schemasOption,
  lagArguments,
  subscribeArguments,
} from '../store/operation-arguments.js';
import { encodeEvents, integerOption, oneOf, validateDecider, validateName, validateOptions, type EventEncoding } from '../store/validation.js';
import { StoreClosedError } from '../streams/errors.js';
import type { AppendResult, EventData, Position, RecordedEvent } from '../streams/event.js';
import { InMemoryLog } from './in-memory-log.js';
import { InMemorySubscription, SubscriptionGroup } from './in-memory-subscription.js';
import { BatchGroup, GroupCheckpoints, InMemoryBatchSubscription } from './in-memory-batch-subscription.js';
import type { BatchHandler, BatchSubscribeOptions } from '../store/batch-subscription.js';
import type { PartitionLag } from '../store/lag.js';
import { runProjection, type RunnableProjection, type RunningBatches, type RunningProjection } from '../store/projection-source.js';

export interface InMemoryStoreOptions {
  /** Partitions the streams are spread over, by partition key as on Kafka (default 1). */
  readonly partitions?: number;
  /** The store's event types and versions: appends are validated, reads upcast (as `connect`'s option). */
  readonly schemas?: EventSchemas;
  /** With `schemas`: what a read does with an event of an unknown type or version (default 'fail'). */
  readonly onUnknownEvent?: UnknownEventPolicy;
  /** Largest encoded event accepted (default as on Kafka: 995,904 bytes). */
  readonly maxEventBytes?: number;
  /**
   * The store's name, as a projection records it beside its checkpoints (default
   * `in-memory-<random>`: a new store's offsets are not an earlier one's).
   */
  readonly name?: string;
}

/** What stores opened with `another()` share: the events and the named subscriptions' checkpoints. */
interface SharedState {
  readonly name: string;
  readonly log: InMemoryLog;
  readonly groups: Map<string, SubscriptionGroup>;
  readonly batchGroups: Map<string, BatchGroup>;
}

export class InMemoryEventStore implements EventStore {
  private closed = false;
  private readonly encoding: EventEncoding;
  private readonly maxEventBytes: number;
  private readonly read: EventReader;
  private readonly commands: CommandRunner;
  private readonly subscriptions = new Set<InMemorySubscription>();
  private readonly subscriptionNames = new WeakMap<InMemorySubscription, string>();
  private readonly batchSubscriptions = new Set<{ stop(): Promise<void> }>();
  private readonly shared: SharedState;

  /** `shared` is internal: stores made by `another()` share the events. */
  constructor(options: InMemoryStoreOptions = {}, shared?: SharedState) {
    const given = validateOptions(options);
    const partitions = integerOption(given.partitions, 'partitions', 1, 1, 10_000);
    const schemas = schemasOption(given.schemas);
    const onUnknownEvent = oneOf(given.onUnknownEvent, 'onUnknownEvent', unknownEventPolicies, 'fail');
    this.maxEventBytes = integerOption(given.maxEventBytes, 'maxEventBytes', operationDefaults.maxEventBytes, 1, 100_000_000);
    if (shared && shared.log.partitions !== partitions && given.partitions !== undefined) {
      throw new InvalidArgumentError('partitions', `the store has ${shared.log.partitions} partitions; another() cannot change that`);
    }
    if (given.name !== undefined) validateName(given.name, 'name', 200);
    if (shared && given.name !== undefined && given.name !== shared.name) throw new InvalidArgumentError('name', `the store is "${shared.name}"; another() cannot change that`);
    this.shared = shared ?? { name: (given.name as string | undefined) ?? `in-memory-${randomUUID().slice(0, 8)}`, log: new InMemoryLog(partitions), groups: new Map(), batchGroups: new Map() };
    this.encoding = schemas ? { schemas } : {};
    this.read = eventReader(schemas, onUnknownEvent);
    this.commands = new CommandRunner(
      this.read,
      this.shared.log,
      (events, ids) => {
        validateDecision(events);
        return encodeEvents(events.map((event, i) => (typeof event === 'object' && event !== null ? { ...event, id: ids[i]! } : event)), this.maxEventBytes, this.encoding);
      },
      operationDefaults.maxCommandStates,
    );
  }

  /**
   * A second store over the same events, as another process connected to the same store
   * sees them: its own options (say, newer schemas), deciders and subscriptions.
   */
  another(options: Omit<InMemoryStoreOptions, 'partitions'> = {}): InMemoryEventStore {
    return new InMemoryEventStore(options, this.shared);
  }

  get name(): string {
    return this.shared.name;
  }

  get partitions(): number {
    return this.log.partitions;
  }

  /** The partition a stream (or partition key) is in. */
  partitionOf(streamIdOrKey: string): number {
    return partitionForKey(streamIdOrKey, this.log.partitions);
  }

  private get log(): InMemoryLog {
    return this.shared.log;
  }

  async append(streamId: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult> {
    this.ensureOpen('append');
    const valid = appendArguments(streamId, events, options, this.maxEventBytes, this.encoding);
    return this.apply({ streamId, expectedVersion: valid.expectedVersion, events: valid.events }, valid.partitionKey);
  }

  /** Decides one append or command with the append rules and stores what they decide, at once. */
  private apply(intent: AppendIntent, partitionKey: string): AppendResult {
    const partition = this.partitionOf(partitionKey);
    const now = Date.now();
    const decision = decideBatch(this.log, partition, [intent], now)[0]!;
    switch (decision.kind) {
      case 'write': {
        const { streamId, firstVersion, events, snapshot } = decision;
        const last = this.log.write(partition, streamId, firstVersion, events, snapshot, now);
        return writtenResult(last.version, partition, last.offset);
      }
      case 'answer':
        return decision.result;
      case 'refuse':
        throw decision.error;
      case 'follow':
        throw new Error('an append decided alone cannot follow another');
    }
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    this.ensureOpen('readStream');
    yield* readStreamPages(this.log, this.read, streamId, readArguments(streamId, options));
  }

  async subscribe(options: SubscribeOptions, handler: EventHandler): Promise<Subscription> {
    this.ensureOpen('subscribe');
    const { name, from, stopTimeoutMs } = subscribeArguments(options, handler, this.log.partitions);
    const starts = new Map<number, number>();
    for (let partition = 0; partition < this.log.partitions; partition++) starts.set(partition, from === 'end' ? this.log.end(partition) : 0);
    if (Array.isArray(from)) for (const position of from) starts.set(position.partition, Number(position.offset) + 1);
    let group: SubscriptionGroup | undefined;
    if (name !== undefined) {
      group = this.shared.groups.get(name);
      if (!group) {
        // `from` applies only to a name never seen before: later ones resume at its checkpoint.
        group = new SubscriptionGroup();
        for (const [partition, offset] of starts) group.checkpoints.set(partition, offset);
        this.shared.groups.set(name, group);
      }
    }
    const subscription = new InMemorySubscription(this.log, this.read, handler, group?.checkpoints ?? starts, group, stopTimeoutMs);
    this.subscriptions.add(subscription);
    this.subscriptionNames.set(subscription, name ?? '');
    void subscription.done.catch(() => undefined).finally(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  /**
   * The store's events in batches, as the Kafka store's `subscribeBatches`: the subscriptions
   * of one name share the partitions, each resumes where `checkpoints` (default: the name's
   * own, committed after each batch) says, else at `from`. Batches are bounded by count; the
   * events are all there at once, so `maxBatchWaitMs` never has to cut one.
   */
  async subscribeBatches(options: BatchSubscribeOptions, handler: BatchHandler): Promise<RunningBatches> {
    this.ensureOpen('subscribeBatches');
    const { settings, from } = batchSubscribeArguments(options, handler, this.log.partitions, () => undefined);
    const starts = new Map<number, number>();
    for (let partition = 0; partition < this.log.partitions; partition++) if (from === 'end') starts.set(partition, this.log.end(partition));
    if (Array.isArray(from)) for (const position of from) starts.set(position.partition, Number(position.offset) + 1);
    let group = this.shared.batchGroups.get(settings.name);
    if (!group) this.shared.batchGroups.set(settings.name, (group = new BatchGroup()));
    const subscription = new InMemoryBatchSubscription(this.log, this.read, handler, group, settings.checkpoints ?? new GroupCheckpoints(group), settings, starts);
    this.batchSubscriptions.add(subscription);
    void subscription.done.catch(() => undefined).finally(() => this.batchSubscriptions.delete(subscription));
    return subscription;
  }

  /** How far a checkpoint (the last position handled per partition) is behind the log: events not handled yet and the age of the oldest. */
  async lag(checkpoint: readonly Position[]): Promise<PartitionLag[]> {
    this.ensureOpen('lag');
    const handled = new Map<number, number>();
    for (const p of lagArguments(checkpoint, this.log.partitions)) handled.set(p.partition, Number(p.offset));
    const now = Date.now();
    return Array.from({ length: this.log.partitions }, (_, partition) => {
      const last = handled.get(partition);
      const end = this.log.end(partition);
      const oldest = this.log.from(partition, (last ?? -1) + 1)[0];
      return {
        partition,
        ...(last === undefined ? {} : { position: String(last) }),
        end: String(end),
        events: Math.max(0, end - ((last ?? -1) + 1)),
        seconds: oldest ? Math.max(0, (now - oldest.timestamp) / 1000) : 0,
      };
    });
  }

  /**
   * Runs a projection on this store, as on the Kafka store: e.g. a `scribe/postgres`
   * projection into a real PostgreSQL, for a unit test of its handler with no broker.
   */
  async project<Options, Running extends RunningProjection>(projection: RunnableProjection<Options, Running>, options: Options): Promise<Running> {
    this.ensureOpen('project');
    return runProjection(this, projection, options);
  }

  async load<State, Event extends DomainEvent>(decider: Decider<State, unknown, Event>, streamId: string, options: LoadOptions = {}): Promise<LoadedState<State>> {
    this.ensureOpen('load');
    validateDecider(decider);
    loadArguments(streamId, options);
    const { state, version, fromSnapshot } = await loadAggregate(this.read, this.log, decider, streamId);
    return { state, version, ...(fromSnapshot === undefined ? {} : { fromSnapshot }) };
  }

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
    return handleCommand(
      {
        load: () => loadAggregate(this.read, this.log, decider as Decider<State, unknown, DomainEvent>, streamId),
        encode: (events) => encodeEvents(events, this.maxEventBytes, this.encoding),
        append: async (events, expectedVersion, snapshot) => this.apply({ streamId, expectedVersion, events, ...(snapshot ? { snapshot } : {}) }, partitionKey),
      },
      decider,
      streamId,
      command,
      valid,
    );
  }

  register<State, Command, Event extends DomainEvent>(name: string, decider: Decider<State, Command, Event>): void {
    this.ensureOpen('register');
    validateName(name, 'name');
    validateDecider(decider);
    this.commands.register(name, decider as unknown as AnyDecider);
  }

  async execute<Event extends DomainEvent = DomainEvent>(name: string, streamId: string, command: unknown, options: ExecuteOptions = {}): Promise<ExecuteResult<Event>> {
    this.ensureOpen('execute');
    const { payload, commandId, partitionKey } = executeArguments(name, streamId, command, options, this.maxEventBytes);
    const result = await new Promise<ExecuteResult>((resolve, reject) =>
      this.commands.run(
        { decider: name, commandId: commandId ?? randomUUID(), streamId, partitionKey, command: JSON.parse(payload) as unknown },
        {
          enqueue: (append) => {
            try {
              append.resolve(this.apply(append, append.partitionKey));
            } catch (error) {
              append.reject(error);
            }
          },
        },
        // A refusal is CommandRejectedError, as from an owner in any process.
        { resolve, reject: (error: unknown) => reject(commandRefusal(error, streamId)) },
      ),
    );
    return result as ExecuteResult<Event>;
  }

  /** Always ready while open: in memory every partition is owned here and its writer never waits. */
  async health(): Promise<StoreHealth> {
    const partitions = Array.from({ length: this.log.partitions }, (_, partition) => partition);
    const lag = this.closed
      ? []
      : [...this.subscriptions].flatMap((subscription) =>
          subscription.behind().map(({ partition, events }) => ({ subscription: this.subscriptionNames.get(subscription) ?? '', partition, events, seconds: 0 })),
        );
    return {
      ready: !this.closed,
      reasons: this.closed ? ['the store is closed'] : [],
      writer: true,
      ownedPartitions: partitions,
      writers: partitions.map((partition) => ({ partition, state: this.closed ? 'closed' : 'ready', ready: !this.closed })),
      lag,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions, ...this.batchSubscriptions].map((subscription) => subscription.stop().catch(() => undefined)));
  }

  private ensureOpen(operation: string): void {
    if (this.closed) throw new StoreClosedError(operation);
  }
}
