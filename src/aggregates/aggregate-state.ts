// Folds a stream into a decider's state: from the latest usable snapshot and the events after
// it, read from the local index (asynchronously on load, synchronously inside a batch).
import type { StoredEvent } from '../records/event-record.js';
import type { RecordedEvent } from '../streams/event.js';
import type { StoredSnapshot } from '../records/snapshot-record.js';
import type { EventLocation } from '../appends/append-batch.js';
import type { Decider, DomainEvent, LoadedState } from './decider.js';
import { snapshotDue } from './snapshot-policy.js';
import { jsonStateCodec, type StateCodec } from './state-codec.js';

/** A loaded state and what the snapshot policy needs to know about it. */
export interface AggregateState<State> extends LoadedState<State> {
  readonly eventsSinceSnapshot: number;
  readonly lastSnapshotAt: Date | undefined;
}

/** What folding a stream reads: the local index of a Kafka store, or the in-memory store's log. */
export interface StreamHistory {
  snapshot(streamId: string): StoredSnapshot | undefined;
  read(streamId: string, fromVersion: number, direction: 'forwards' | 'backwards', maxCount: number): Promise<StoredEvent[]>;
  locate(eventId: string): EventLocation | undefined;
  event(streamId: string, version: number): StoredEvent | undefined;
}

const readPage = 1_000;

export function codecOf<State>(decider: Decider<State, unknown, DomainEvent>): StateCodec<State> {
  return decider.codec ?? (jsonStateCodec as StateCodec<State>);
}

export function snapshotVersionOf(decider: Decider<unknown, unknown, DomainEvent>): number {
  return decider.snapshotVersion ?? 1;
}

/** The state from the stream's snapshot, when there is one of the decider's snapshot version. */
export function fromSnapshot<State>(decider: Decider<State, unknown, DomainEvent>, snapshot: StoredSnapshot | undefined): AggregateState<State> {
  if (snapshot && snapshot.snapshotVersion === snapshotVersionOf(decider as Decider<unknown, unknown, DomainEvent>)) {
    return { state: codecOf(decider).decode(snapshot.state), version: snapshot.version, fromSnapshot: snapshot.version, eventsSinceSnapshot: 0, lastSnapshotAt: new Date(snapshot.timestamp) };
  }
  // None, or of another shape of State: rebuild from the events (and snapshot again when due).
  return { state: decider.initialState(), version: -1, eventsSinceSnapshot: 0, lastSnapshotAt: undefined };
}

export function evolveWith<State, Event extends DomainEvent>(
  decider: Decider<State, unknown, Event>,
  from: AggregateState<State>,
  events: readonly Event[],
): AggregateState<State> {
  let state = from.state;
  for (const event of events) state = decider.evolve(state, event);
  return { ...from, state, version: from.version + events.length, eventsSinceSnapshot: from.eventsSinceSnapshot + events.length };
}

/** Turns a stored event into what deciders fold: decoded and upcast (see EventReader). */
export type ReadEvents = (stored: StoredEvent) => RecordedEvent[];

function asDomainEvents<Event extends DomainEvent>(read: ReadEvents, stored: StoredEvent): Event[] {
  return read(stored) as unknown as Event[];
}

/** Latest snapshot + the events after it, up to the index's head of the stream. */
export async function loadAggregate<State, Event extends DomainEvent>(
  read: ReadEvents,
  index: StreamHistory,
  decider: Decider<State, unknown, Event>,
  streamId: string,
): Promise<AggregateState<State>> {
  let loaded = fromSnapshot(decider as Decider<State, unknown, DomainEvent>, index.snapshot(streamId));
  for (;;) {
    const page = await index.read(streamId, loaded.version + 1, 'forwards', readPage);
    const last = page[page.length - 1];
    if (last) loaded = { ...evolveWith(decider, loaded, page.flatMap((e) => asDomainEvents<Event>(read, e))), version: last.version };
    if (page.length < readPage) return loaded;
  }
}

/** Brings a state forward to `version`, synchronously, with the events `eventAt` gives. */
export function catchUpSync<State, Event extends DomainEvent>(
  read: ReadEvents,
  eventAt: (streamId: string, version: number) => StoredEvent | undefined,
  decider: Decider<State, unknown, Event>,
  streamId: string,
  from: AggregateState<State>,
  version: number,
): AggregateState<State> {
  let loaded = from.version > version ? fromSnapshot(decider as Decider<State, unknown, DomainEvent>, undefined) : from;
  while (loaded.version < version) {
    const stored = eventAt(streamId, loaded.version + 1);
    if (!stored) throw new Error(`index damaged: stream "${streamId}" has no event at version ${loaded.version + 1}`);
    loaded = { ...evolveWith(decider, loaded, asDomainEvents<Event>(read, stored)), version: stored.version };
  }
  return loaded;
}

/** The snapshot to store with a state that just moved forward, when the decider's policy says so. */
export function snapshotIfDue<State>(
  decider: Decider<State, unknown, DomainEvent>,
  after: AggregateState<State>,
): { snapshot?: { snapshotVersion: number; state: Buffer }; state: AggregateState<State> } {
  const due = snapshotDue(decider.snapshot, { state: after.state, version: after.version, eventsSinceSnapshot: after.eventsSinceSnapshot, lastSnapshotAt: after.lastSnapshotAt });
  if (!due) return { state: after };
  return {
    snapshot: { snapshotVersion: snapshotVersionOf(decider as Decider<unknown, unknown, DomainEvent>), state: codecOf(decider).encode(after.state) },
    state: { ...after, eventsSinceSnapshot: 0, lastSnapshotAt: new Date() },
  };
}
