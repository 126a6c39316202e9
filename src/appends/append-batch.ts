// The rules of an append, as one pure function over a partition's state: expected versions,
// event-id deduplication (in the log and inside the batch), command idempotence and deciding
// commands against the stream as the batch leaves it. A backend writes what it returns.
import type { EncodedEvent, StoredEvent } from '../streams/encoded-event.js';
import { EventIdConflictError, WrongExpectedVersionError } from '../streams/errors.js';
import type { AppendResult } from '../streams/event.js';
import { matchesExpectedVersion, type ExpectedVersion } from '../streams/expected-version.js';

/** Where an event already in the log is. */
export interface EventLocation {
  readonly streamId: string;
  readonly version: number;
  readonly partition: number;
  readonly offset: number;
}

/** What the rules read of a partition: its committed state, before the batch. */
export interface PartitionView {
  /** The stream's last version, -1 when it has none. */
  head(streamId: string): number;
  locate(eventId: string): EventLocation | undefined;
  event(streamId: string, version: number): StoredEvent | undefined;
}

/** A stream's state to store with the append, in the same transaction, as of its last event. */
export interface PendingSnapshot {
  readonly snapshotVersion: number;
  readonly state: Buffer;
}

/** What a command sees of the batch it is decided in. */
export interface BatchView {
  /** Scratch space shared by the batch's commands: state decided earlier in the same batch. */
  readonly decisions: Map<string, unknown>;
  /** An event of a stream as of this point of the batch: written earlier in it, or committed. */
  event(streamId: string, version: number): StoredEvent | undefined;
}

/**
 * A command decided inside the batch, against the stream as the batch leaves it, so commands
 * on one stream follow each other without conflicts.
 */
export interface CommandDecision {
  readonly commandId: string;
  /** Decides against the stream at version `current`. A throw is the command's refusal: nothing is written. */
  decide(current: number, batch: BatchView): { readonly events: readonly EncodedEvent[]; readonly snapshot?: PendingSnapshot };
}

/** One append or command of a batch, as the rules see it. */
export interface AppendIntent {
  readonly streamId: string;
  /** Ignored for commands: they are decided against the version they meet. */
  readonly expectedVersion: ExpectedVersion;
  readonly events: readonly EncodedEvent[] | CommandDecision;
  readonly snapshot?: PendingSnapshot;
}

/** What becomes of one intent. */
export type AppendDecision =
  /** Write these events at versions `firstVersion`, `firstVersion + 1`, ... (and the snapshot, if any). */
  | { readonly kind: 'write'; readonly streamId: string; readonly firstVersion: number; readonly events: readonly EncodedEvent[]; readonly snapshot?: PendingSnapshot }
  /** Already answered without writing: a retry of a stored append, or a command that decided nothing. */
  | { readonly kind: 'answer'; readonly result: AppendResult }
  /** Refused: a ScribeError, or a command's own refusal as `decide` threw it. */
  | { readonly kind: 'refuse'; readonly error: unknown }
  /** A retry of the intent at index `of` in this same batch: it shares that intent's outcome. */
  | { readonly kind: 'follow'; readonly of: number };

/** The id of a command's i-th event: a retried command finds its first application by it. */
export function commandEventId(commandId: string, i: number): string {
  return `${commandId}/${i}`;
}

export function isCommand(events: AppendIntent['events']): events is CommandDecision {
  return !Array.isArray(events);
}

/** The answer to an append whose last event sits at `offset` of `partition`. */
export function writtenResult(lastVersion: number, partition: number, offset: number): AppendResult {
  return { nextExpectedVersion: lastVersion, position: { partition, offset: String(offset) } };
}

/**
 * Decides a batch of `partition`, in order: each intent sees the streams as the intents before
 * it leave them. `now` stamps the events a command sees of the batch. Pure: the view is only
 * read, and nothing is allocated per event beyond the map of the batch's event ids.
 */
export function decideBatch(view: PartitionView, partition: number, intents: readonly AppendIntent[], now: number): AppendDecision[] {
  const decisions: AppendDecision[] = [];
  /** Per stream written by this batch, the intent that wrote it last. */
  const lastWrite = new Map<string, number>();
  /** Event ids written by this batch, and the intent that wrote each. */
  const written = new Map<string, number>();
  const batch: BatchView = {
    decisions: new Map(),
    event: (streamId, version) => eventInBatch(decisions, lastWrite, streamId, version, partition, now) ?? view.event(streamId, version),
  };

  for (let index = 0; index < intents.length; index++) {
    const intent = intents[index]!;
    const command = isCommand(intent.events) ? intent.events : undefined;
    const earlier = command ? appliedCommand(view, written, command.commandId) : storedBefore(view, intents, written, intent.streamId, intent.events as readonly EncodedEvent[]);
    if (earlier) {
      decisions.push(earlier);
      continue;
    }
    const writer = lastWrite.get(intent.streamId);
    const current = writer === undefined ? view.head(intent.streamId) : lastVersion(decisions[writer] as WriteDecision);
    let events = intent.events as readonly EncodedEvent[];
    let snapshot = intent.snapshot;
    if (command) {
      try {
        ({ events, snapshot } = command.decide(current, batch));
      } catch (refusal) {
        decisions.push({ kind: 'refuse', error: refusal });
        continue;
      }
    } else if (!matchesExpectedVersion(current, intent.expectedVersion)) {
      decisions.push({ kind: 'refuse', error: new WrongExpectedVersionError(intent.streamId, intent.expectedVersion, current) });
      continue;
    }
    if (events.length === 0) {
      // Nothing to write: the answer is the stream as it is. Written earlier in this batch, its
      // position is known only with that write's, so it shares that write's outcome.
      if (writer !== undefined) decisions.push({ kind: 'follow', of: writer });
      else decisions.push({ kind: 'answer', result: writtenResult(current, partition, current < 0 ? -1 : (view.event(intent.streamId, current)?.offset ?? -1)) });
      continue;
    }
    for (const event of events) written.set(event.id, index);
    lastWrite.set(intent.streamId, index);
    decisions.push({ kind: 'write', streamId: intent.streamId, firstVersion: current + 1, events, ...(snapshot ? { snapshot } : {}) });
  }
  return decisions;
}

type WriteDecision = Extract<AppendDecision, { kind: 'write' }>;

function lastVersion(write: WriteDecision): number {
  return write.firstVersion + write.events.length - 1;
}

/** An event this batch writes, as a command sees it (its offset is not known yet: -1). */
function eventInBatch(
  decisions: readonly AppendDecision[],
  lastWrite: ReadonlyMap<string, number>,
  streamId: string,
  version: number,
  partition: number,
  now: number,
): StoredEvent | undefined {
  const last = lastWrite.get(streamId);
  if (last === undefined || version > lastVersion(decisions[last] as WriteDecision)) return undefined;
  // The batch's writes of one stream follow each other: walk back from the last one.
  for (let i = last; i >= 0; i--) {
    const decision = decisions[i]!;
    if (decision.kind !== 'write' || decision.streamId !== streamId) continue;
    if (version > lastVersion(decision)) return undefined;
    if (version >= decision.firstVersion) return { ...decision.events[version - decision.firstVersion]!, streamId, version, partition, offset: -1, timestamp: now };
  }
  return undefined;
}

/**
 * A retry of an append that was stored answers as the first time; a retry of one in this very
 * batch follows it. Ids stored only in part, in another stream, or partly in the log and partly
 * in this batch (no one append wrote them) are a conflict.
 */
function storedBefore(
  view: PartitionView,
  intents: readonly AppendIntent[],
  written: ReadonlyMap<string, number>,
  streamId: string,
  events: readonly EncodedEvent[],
): AppendDecision | undefined {
  let found = 0;
  let firstFound = -1;
  let otherStream = false;
  let lastInBatch: number | undefined;
  let lastLocated: EventLocation | undefined;
  for (let i = 0; i < events.length; i++) {
    const id = events[i]!.id;
    const ours = written.get(id);
    if (ours !== undefined) {
      otherStream ||= intents[ours]!.streamId !== streamId;
      lastInBatch = ours;
    } else {
      const located = view.locate(id);
      if (!located) continue;
      otherStream ||= located.streamId !== streamId;
      lastLocated = located;
    }
    found++;
    if (firstFound < 0) firstFound = i;
  }
  if (found === 0) return undefined;
  const firstId = events[firstFound]!.id;
  if (found !== events.length) {
    return { kind: 'refuse', error: new EventIdConflictError(streamId, firstId, "some of the append's events were stored before, others not") };
  }
  if (otherStream) return { kind: 'refuse', error: new EventIdConflictError(streamId, firstId, 'it was stored in another stream') };
  if (lastInBatch !== undefined && lastLocated !== undefined) {
    return { kind: 'refuse', error: new EventIdConflictError(streamId, firstId, 'some of the append\'s events were stored before, others are being written by another append') };
  }
  if (lastInBatch !== undefined) return { kind: 'follow', of: lastInBatch };
  return { kind: 'answer', result: writtenResult(lastLocated!.version, lastLocated!.partition, lastLocated!.offset) };
}

/** A command applied before (its first event is stored) answers with its first result. */
function appliedCommand(view: PartitionView, written: ReadonlyMap<string, number>, commandId: string): AppendDecision | undefined {
  const first = commandEventId(commandId, 0);
  const ours = written.get(first);
  if (ours !== undefined) return { kind: 'follow', of: ours };
  let last = view.locate(first);
  if (!last) return undefined;
  for (let i = 1; ; i++) {
    const next = view.locate(commandEventId(commandId, i));
    if (!next) break;
    last = next;
  }
  return { kind: 'answer', result: writtenResult(last.version, last.partition, last.offset) };
}
