// The decider model of an aggregate: a command and the current state decide the new events,
// and the events evolve the state. Pure functions, so the same decider runs in the caller
// (`handle`) or at the stream's owner (`execute`), and its state can be snapshotted.
import type { Metadata } from '../streams/event.js';
import type { SnapshotPolicy } from './snapshot-policy.js';
import type { StateCodec } from './state-codec.js';

/** An event as a decider produces and consumes it: a discriminated union on `type`. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata?: Metadata;
}

export interface Decider<State, Command, Event extends DomainEvent> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  /** Throws a domain error to refuse the command: nothing is appended. */
  decide(command: Command, state: State): readonly Event[];
  /**
   * The shape of `State` in snapshots (default 1). Bump it when the state changes shape:
   * snapshots of another version are ignored and the state is rebuilt from events.
   */
  readonly snapshotVersion?: number;
  /** When to write a snapshot (default: never). */
  readonly snapshot?: SnapshotPolicy<State>;
  /** How state is serialised in snapshots (default: JSON with BigInt and Date kept). */
  readonly codec?: StateCodec<State>;
}

/** A stream's state as loaded: `version` is the last event folded in (-1: no stream yet). */
export interface LoadedState<State> {
  readonly state: State;
  readonly version: number;
  /** The version of the snapshot the load started from, if any. */
  readonly fromSnapshot?: number;
}
