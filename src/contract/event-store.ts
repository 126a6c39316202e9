// The event store as user code sees it, whatever holds the events: the Kafka store in
// production, the in-memory store (`scribe/testing`) in unit tests. Both keep the same rules
// and answer with the same errors.
import type { ExecuteResult } from '../aggregates/command-runner.js';
import type { Decider, DomainEvent, LoadedState } from '../aggregates/decider.js';
import type { AppendResult, EventData, Position, RecordedEvent } from '../streams/event.js';
import type { ExpectedVersion } from '../streams/expected-version.js';

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

export const readDirections = ['forwards', 'backwards'] as const;
export type ReadDirection = (typeof readDirections)[number];

export interface ReadStreamOptions {
  /** First version to read (default 0 forwards, the last event backwards). */
  readonly fromVersion?: number;
  readonly direction?: ReadDirection;
  readonly maxCount?: number;
  /** The partition key the stream was appended with, when it was not its id. */
  readonly partitionKey?: string;
}

/** Where a subscription starts: the first event, events appended from now on, or just after saved positions. */
export type SubscriptionStart = 'start' | 'end' | readonly Position[];

export interface SubscribeOptions {
  readonly from?: SubscriptionStart;
  /**
   * Names a durable subscription: its checkpoint is kept after each handled batch and a
   * restart resumes after it (`from` applies only when there is no checkpoint). Processes
   * subscribing with the same name share the partitions.
   */
  readonly name?: string;
  /**
   * How long `stop()` waits for a running handler to return (default 10 s). After that the
   * subscription stops without it (nothing after it is checkpointed) and `stop()` rejects
   * with TimeoutError.
   */
  readonly stopTimeoutMs?: number;
}

export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

/** A running subscription. */
export interface Subscription {
  /**
   * Resolves when the subscription has stopped; rejects with the handler's error if it failed,
   * or with the TimeoutError of a `stop()` that abandoned a running handler.
   */
  readonly done: Promise<void>;
  /** The position of the last handled event of each partition. */
  readonly lastPositions: Position[];
  /** Stops delivering events and waits for the running handler (up to `stopTimeoutMs`). */
  stop(): Promise<void>;
}

/** Whether a store's process is fit for traffic: what a readiness probe asks (`store.health()`). */
export interface StoreHealth {
  /** Open, and every partition this process owns has a writer that takes appends. */
  readonly ready: boolean;
  /** Why not ready, one line each; empty when ready. */
  readonly reasons: readonly string[];
  /** Whether this process is a writer (owns partitions when the writer group assigns it some). */
  readonly writer: boolean;
  /** Partitions this process owns now. */
  readonly ownedPartitions: readonly number[];
  /** Each owned partition's writer: its state (`ready`, `starting`, `recovering`, ...) and whether it takes appends. */
  readonly writers: readonly { readonly partition: number; readonly state: string; readonly ready: boolean }[];
  /**
   * How far this process's subscriptions (and projection runners) are behind the log: per
   * subscription and partition it reads, the records not handled yet and the age of the last
   * one handled while records wait (seconds; 0 when at the end). Empty when the ends could not be read.
   */
  readonly lag: readonly { readonly subscription: string; readonly partition: number; readonly events: number; readonly seconds: number }[];
}

/** What an event store does for user code. Kafka-only operations (growth, ownership) live on the Kafka store. */
export interface EventStore {
  /** Appends events to a stream if it is at `expectedVersion`; a retry with the same event ids answers as the first time. */
  append(streamId: string, events: readonly EventData[], options: AppendOptions): Promise<AppendResult>;
  /** The stream's events; StreamNotFoundError when it has none. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncGenerator<RecordedEvent>;
  /** Every committed event of the store, in per-partition order, catch-up then live. */
  subscribe(options: SubscribeOptions, handler: EventHandler): Promise<Subscription>;
  /** The stream's state: its latest snapshot of the decider's snapshot version, then the events after it. */
  load<State, Event extends DomainEvent>(decider: Decider<State, unknown, Event>, streamId: string, options?: LoadOptions): Promise<LoadedState<State>>;
  /** Load, decide, append at the loaded version; decide again after a conflict (bounded). */
  handle<State, Command, Event extends DomainEvent>(decider: Decider<State, Command, Event>, streamId: string, command: Command, options?: HandleOptions): Promise<HandleResult<State, Event>>;
  /** Registers a decider under a name, for `execute`. */
  register<State, Command, Event extends DomainEvent>(name: string, decider: Decider<State, Command, Event>): void;
  /** Runs a command at the stream's owner with the decider registered under `name`; idempotent by `commandId`. */
  execute<Event extends DomainEvent = DomainEvent>(name: string, streamId: string, command: unknown, options?: ExecuteOptions): Promise<ExecuteResult<Event>>;
  /** Stops subscriptions and releases everything; later calls fail with StoreClosedError. */
  close(): Promise<void>;
  /** Whether this process is fit for traffic (a readiness probe): writers ready, partitions owned, lag. */
  health(): Promise<StoreHealth>;
}
