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
 * it leave them. `now` stamps the events a command sees of the batch.
 */
export function decideBatch(view: PartitionView, partition: number, intents: readonly AppendIntent[], now: number): AppendDecision[] {
  const heads = new Map<string, number>();
  /** Event ids written by this batch: where, and by which intent. */
  const written = new Map<string, { streamId: string; version: number; intent: number }>();
  const inBatch = new Map<string, StoredEvent>();
  const batchView: BatchView = {
    decisions: new Map(),
    event: (streamId, version) => inBatch.get(`${version}:${streamId}`) ?? view.event(streamId, version),
  };

  return intents.map((intent, index): AppendDecision => {
    const command = isCommand(intent.events) ? intent.events : undefined;
    const earlier = command ? appliedCommand(view, written, command.commandId) : storedBefore(view, written, intent.streamId, intent.events as readonly EncodedEvent[]);
    if (earlier) return earlier;

    const current = heads.get(intent.streamId) ?? view.head(intent.streamId);
    let events = intent.events as readonly EncodedEvent[];
    let snapshot = intent.snapshot;
    if (command) {
      try {
        ({ events, snapshot } = command.decide(current, batchView));
      } catch (refusal) {
        return { kind: 'refuse', error: refusal };
      }
      if (events.length === 0) {
        const last = current < 0 ? undefined : view.event(intent.streamId, current);
        return { kind: 'answer', result: writtenResult(current, partition, last?.offset ?? -1) };
      }
    } else if (!matchesExpectedVersion(current, intent.expectedVersion)) {
      return { kind: 'refuse', error: new WrongExpectedVersionError(intent.streamId, intent.expectedVersion, current) };
    }

    events.forEach((event, i) => {
      const version = current + 1 + i;
      written.set(event.id, { streamId: intent.streamId, version, intent: index });
      inBatch.set(`${version}:${intent.streamId}`, { ...event, streamId: intent.streamId, version, partition, offset: -1, timestamp: now });
    });
    heads.set(intent.streamId, current + events.length);
    return { kind: 'write', streamId: intent.streamId, firstVersion: current + 1, events, ...(snapshot ? { snapshot } : {}) };
  });
}

/**
 * A retry of an append that was stored answers as the first time; a retry of one in this very
 * batch follows it. Ids stored only in part, or in another stream, are a conflict.
 */
function storedBefore(
  view: PartitionView,
  written: Map<string, { streamId: string; version: number; intent: number }>,
  streamId: string,
  events: readonly EncodedEvent[],
): AppendDecision | undefined {
  const found = events.map((event) => {
    const ours = written.get(event.id);
    if (ours) return { ...ours, located: undefined };
    const located = view.locate(event.id);
    return located ? { streamId: located.streamId, version: located.version, located, intent: undefined } : undefined;
  });
  const present = found.filter((f) => f !== undefined);
  if (present.length === 0) return undefined;
  const firstId = events[found.findIndex((f) => f !== undefined)]!.id;
  if (present.length !== found.length) {
    return { kind: 'refuse', error: new EventIdConflictError(streamId, firstId, "some of the append's events were stored before, others not") };
  }
  if (present.some((f) => f.streamId !== streamId)) {
    return { kind: 'refuse', error: new EventIdConflictError(streamId, firstId, 'it was stored in another stream') };
  }
  const last = present[present.length - 1]!;
  if (!last.located) return { kind: 'follow', of: present[0]!.intent ?? last.intent! };
  return { kind: 'answer', result: writtenResult(last.version, last.located.partition, last.located.offset) };
}

/** A command applied before (its first event is stored) answers with its first result. */
function appliedCommand(view: PartitionView, written: Map<string, { intent: number }>, commandId: string): AppendDecision | undefined {
  const first = commandEventId(commandId, 0);
  const ours = written.get(first);
  if (ours) return { kind: 'follow', of: ours.intent };
  let last = view.locate(first);
  if (!last) return undefined;
  for (let i = 1; ; i++) {
    const next = view.locate(commandEventId(commandId, i));
    if (!next) break;
    last = next;
  }
  return { kind: 'answer', result: writtenResult(last.version, last.partition, last.offset) };
}
