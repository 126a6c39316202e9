// A batch in a partition writer's transaction: the records of what the append rules decided
// (events, snapshots, replies), and what becomes of each append when the transaction fails.
import type { AppendDecision } from '../appends/append-batch.js';
import { writtenResult } from '../appends/append-batch.js';
import { ScribeError } from '../errors.js';
import type { DeliveredRecord, KafkaOperationError } from '../kafka/index.js';
import { kafkaErrorCodes } from '../kafka/errors.js';
import { partitionForKey } from '../partitioning/murmur2.js';
import type { RoutingTable } from '../partitioning/routing.js';
import { encodeReply, replyOf } from '../owner-protocol/wire.js';
import { eventHeaders, type StoredEvent } from '../records/event-record.js';
import { snapshotRecordHeaders, type StoredSnapshot } from '../records/snapshot-record.js';
import type { AppendResult } from '../streams/event.js';
import { AppendAbortedError, AppendOutcomeUnknownError, InvalidEventError, OwnershipChangedError, WriterFailedError, WrongExpectedVersionError } from '../streams/errors.js';
import type { FailureDecision, WriterPhase } from './failure-classifier.js';
import type { PendingAppend } from '../appends/pending-append.js';
import type { TransactionalProducer } from './producer-factory.js';

/** Snapshots larger than this are skipped (a compacted topic refuses records over 1 MB by default). */
const maxSnapshotBytes = 900_000;

/** Appends whose transaction was aborted for another append's fault are tried again, this often. */
const maxAttempts = 3;

export interface Attempt {
  readonly append: PendingAppend;
  readonly attempts: number;
  /**
   * Written in a transaction of its own: the broker refuses a whole record batch when it is
   * over the topic's max.message.bytes, so only an append tried alone can be blamed for it.
   */
  readonly alone?: boolean;
}

/** What became of an append within a transaction; `isolate`: try it again alone. */
export interface Outcome {
  readonly result?: AppendResult;
  readonly error?: unknown;
  readonly isolate?: boolean;
}

/** A write the rules decided, on its way to the log: `at` is its append's place in the batch. */
export interface Write {
  readonly at: number;
  readonly decision: Extract<AppendDecision, { kind: 'write' }>;
  readonly deliveries: Promise<DeliveredRecord>[];
}

export interface BatchTopics {
  readonly events: string;
  readonly snapshots: string;
  readonly replies: string;
}

/** A request past its deadline is not applied; a stream whose shard is not here is refused, retryably. */
export function refusedBeforeDeciding(append: PendingAppend, now: number, partition: number, routing: RoutingTable): ScribeError | undefined {
  if (append.remote && append.remote.deadline < now) {
    return new AppendOutcomeUnknownError(append.streamId, 'the request reached the owner after its deadline; it was not applied');
  }
  const placement = routing.placement(append.partitionKey);
  if (placement.partition === partition && !placement.opening) return undefined;
  return new OwnershipChangedError(partition, placement.opening ? "the stream's shard is being handed over to this partition" : `the stream's shard moved to partition ${placement.partition}`);
}

/** Produces the writes' events in the open transaction (each delivery awaited later). */
export function produceEvents(producer: TransactionalProducer, writes: readonly Write[], batch: readonly Attempt[], topic: string, partition: number): void {
  for (const { at, decision, deliveries } of writes) {
    const { streamId, firstVersion, events } = decision;
    const key = batch[at]!.append.partitionKey;
    for (let i = 0; i < events.length; i++) {
      deliveries.push(producer.send({ topic, partition, key, value: events[i]!.data, headers: eventHeaders(streamId, firstVersion + i, events[i]!) }));
    }
  }
}

/**
 * Waits for the events' offsets and answers each write with its position; then produces the
 * writes' snapshots, in the events' transaction (a snapshot is never visible before the events
 * it folds in). A failed delivery throws; appends too large for the topic are marked first.
 */
export async function delivered(
  producer: TransactionalProducer,
  writes: readonly Write[],
  batch: readonly Attempt[],
  outcomes: Outcome[],
  topics: BatchTopics,
  partition: number,
  now: number,
): Promise<{ committed: StoredEvent[]; snapshots: StoredSnapshot[]; bytes: number }> {
  const settled = await Promise.allSettled(writes.map((w) => Promise.all(w.deliveries)));
  const failed = settled.find((d) => d.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) {
    writes.forEach(({ at }, i) => {
      const outcome = settled[i]!;
      if (outcome.status !== 'rejected' || (outcome.reason as KafkaOperationError).kafkaCode !== kafkaErrorCodes.ERR_MSG_SIZE_TOO_LARGE) return;
      outcomes[at] = batch[at]!.alone
        ? { error: new InvalidEventError(0, `the append is larger than the events topic accepts (max.message.bytes): ${(failed.reason as Error).message}`) }
        : { isolate: true };
    });
    throw failed.reason;
  }
  const committed: StoredEvent[] = [];
  const snapshots: StoredSnapshot[] = [];
  let bytes = 0;
  writes.forEach(({ at, decision }, i) => {
    const offsets = (settled[i] as PromiseFulfilledResult<DeliveredRecord[]>).value;
    const { streamId, firstVersion, events, snapshot } = decision;
    for (let j = 0; j < events.length; j++) {
      const event = events[j]!;
      bytes += event.data.length;
      committed.push({ ...event, streamId, version: firstVersion + j, partition, offset: offsets[j]!.offset, timestamp: now });
    }
    const last = committed[committed.length - 1]!;
    outcomes[at] = { result: writtenResult(last.version, partition, last.offset) };
    if (!snapshot || snapshot.state.length > maxSnapshotBytes) return;
    const stored: StoredSnapshot = { streamId, version: last.version, snapshotVersion: snapshot.snapshotVersion, state: snapshot.state, partition, offset: last.offset, timestamp: Date.now() };
    snapshots.push(stored);
    void producer.send({ topic: topics.snapshots, partition, key: streamId, value: stored.state, headers: snapshotRecordHeaders(stored) }).catch(() => undefined); // fails the commit
  });
  return { committed, snapshots, bytes };
}

/** Produces each remote append's reply; returns the appends topic's offset to commit with them. */
export function produceReplies(producer: TransactionalProducer, batch: readonly Attempt[], outcomes: readonly Outcome[], topic: string, replyPartitions: number): number {
  let next = 0;
  batch.forEach(({ append }, i) => {
    const origin = append.remote;
    if (!origin) return;
    next = Math.max(next, origin.offset + 1);
    const reply = encodeReply(origin.requestId, replyOf(outcomes[i]!, append.streamId));
    void producer.send({ topic, partition: partitionForKey(origin.requester, replyPartitions), key: origin.requester, ...reply }).catch(() => undefined); // fails the commit
  });
  return next;
}

/**
 * Answers a failed transaction's appends as the failure classifier decided, and returns those
 * to try again. `phase` tells what Scribe's own failure (`failed`) means for them: nothing
 * stored before the commit was asked for, unknown once it was, committed once it returned.
 */
export function answerFailedBatch(
  batch: readonly Attempt[],
  outcomes: readonly Outcome[],
  failure: { readonly decision: FailureDecision; readonly phase: WriterPhase; readonly error: unknown; readonly message: string },
  partition: number,
  stillOwner: boolean,
  onConflict: (error: WrongExpectedVersionError) => void,
): Attempt[] {
  const { decision, phase, error, message } = failure;
  switch (decision) {
    case 'outcome-unknown-reinitialise':
      for (const { append } of batch) append.reject(new AppendOutcomeUnknownError(append.streamId, message, { cause: error }));
      return [];
    case 'fenced-give-up':
      for (const { append } of batch) append.reject(new OwnershipChangedError(partition, 'this writer was fenced by a newer owner'));
      return [];
    case 'retry-in-new-transaction':
      return afterAbort(batch, outcomes, message, partition, stillOwner);
    default:
      if (phase === 'apply') settle(batch, outcomes, onConflict); // committed: Scribe's own bookkeeping failed after it
      else failBatch(batch, error, partition, phase === 'commit'); // never "outcome unknown" unless the commit was asked for
      return [];
  }
}

/**
 * After a definite failure: answers the appends that failed for their own fault (a command's
 * refusal, an event the broker refuses even alone) and returns the others, to be tried again
 * (each at most `maxAttempts` times). None is retried by a writer that lost its partition.
 */
export function afterAbort(batch: readonly Attempt[], outcomes: readonly Outcome[], reason: string, partition: number, stillOwner: boolean): Attempt[] {
  const retry: Attempt[] = [];
  batch.forEach((attempt, i) => {
    const { append } = attempt;
    const outcome = outcomes[i];
    const refusal = outcome?.error;
    if (refusal !== undefined && (refusal instanceof InvalidEventError || !(refusal instanceof ScribeError))) append.reject(refusal);
    else if (!stillOwner) append.reject(new OwnershipChangedError(partition, 'ownership moved while the transaction was aborted'));
    else if (outcome?.isolate) retry.push({ append, attempts: attempt.attempts, alone: true });
    else if (attempt.attempts + 1 < maxAttempts) retry.push({ append, attempts: attempt.attempts + 1, alone: attempt.alone === true });
    else append.reject(new AppendAbortedError(append.streamId, reason));
  });
  return retry;
}

/** Answers each append of the batch with its outcome; `onConflict` hears each version conflict. */
export function settle(batch: readonly Attempt[], outcomes: readonly Outcome[], onConflict: (error: WrongExpectedVersionError) => void): void {
  for (let i = 0; i < batch.length; i++) {
    const { append } = batch[i]!;
    const { result, error } = outcomes[i]!;
    if (result) {
      append.resolve(result);
      continue;
    }
    if (error instanceof WrongExpectedVersionError) onConflict(error);
    append.reject(error);
  }
}

/**
 * Answers a batch whose writer failed of its own fault: nothing was stored, unless the commit
 * was asked for (`committing`), when the outcome is unknown.
 */
export function failBatch(batch: readonly Attempt[], cause: unknown, partition: number, committing: boolean): void {
  for (const { append } of batch) {
    const failure = new WriterFailedError(partition, { cause });
    append.reject(committing ? new AppendOutcomeUnknownError(append.streamId, failure.message, { cause: failure }) : failure);
  }
}
