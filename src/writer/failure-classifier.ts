// What a partition writer does about a failure: one pure function of the error and the step
// of the writer's work it interrupted. Every failure of a writer goes through it.
import { ScribeError } from '../errors.js';
import { KafkaOperationError } from '../kafka/index.js';
import { WriterInvariantError } from './writer-state.js';

/** The step a writer was taking when it failed. */
export const writerPhases = [
  'connect', // creating the producer
  'init', // initTransactions: fencing earlier owners
  'recover', // reading the routing log and the partition into the index
  'decide', // applying the append rules to a batch (no Kafka call)
  'begin', // beginTransaction
  'produce', // the transaction's records: events, snapshots, replies, markers
  'send-offsets', // the appends topic's position, with the group's metadata (KIP-447)
  'commit', // commitTransaction was called
  'abort', // abortTransaction after a definite failure
  'apply', // the commit returned; the index and the routing table take it in
] as const;

export type WriterPhase = (typeof writerPhases)[number];

export const failureDecisions = [
  /** Nothing of the transaction is visible: abort it, replace the producer, try its appends again. */
  'retry-in-new-transaction',
  /** The commit may or may not land: answer "outcome unknown", then replace the producer (KAFKA-17754). */
  'outcome-unknown-reinitialise',
  /** A newer owner holds the transactional id (or the coordinator timed the transaction out, KIP-588): stop; the writer group decides. */
  'fenced-give-up',
  /** The writer could not start (a broker away, a bound passed): stop, nothing stored; the writer group tries again. */
  'unavailable-give-up',
  /** Scribe's own code failed (a bug, or its local index): stop with WriterFailedError. */
  'failed',
] as const;

export type FailureDecision = (typeof failureDecisions)[number];

const startPhases: readonly WriterPhase[] = ['connect', 'init', 'recover'];

/**
 * Decides what a failure means. The phase, not the error, says whether anything can have
 * become visible: before commit nothing has (the transaction is aborted or times out); once
 * commit was called the outcome is unknown unless the broker said definitely "aborted".
 */
export function classifyFailure(error: unknown, phase: WriterPhase): FailureDecision {
  if (isProgrammingError(error)) return 'failed';
  // The commit returned: whatever fails now is Scribe's own bookkeeping of a committed transaction.
  if (phase === 'apply' || phase === 'decide') return 'failed';
  const kafka = error instanceof KafkaOperationError ? error : undefined;
  if (startPhases.includes(phase)) return kafka?.fenced ? 'fenced-give-up' : 'unavailable-give-up';
  if (phase === 'commit') {
    // KAFKA-13574: timeouts and transport errors are not definite, whatever else they say.
    if (!kafka || kafka.indefinite) return 'outcome-unknown-reinitialise';
    if (kafka.fenced) return 'fenced-give-up';
    if (kafka.abortable) return 'retry-in-new-transaction';
    return 'outcome-unknown-reinitialise';
  }
  // begin, produce, send-offsets, abort: commit was never called, nothing is visible.
  return kafka?.fenced ? 'fenced-give-up' : 'retry-in-new-transaction';
}

/**
 * A bug in Scribe rather than a failure of Kafka or of the machine: a broken invariant of the
 * writer (an illegal state move among them), or the errors JavaScript raises for wrong code. Never reported to a caller as "outcome unknown"
 * unless a commit was asked for.
 */
export function isProgrammingError(error: unknown): boolean {
  if (error instanceof ScribeError) return false;
  return error instanceof WriterInvariantError || error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError || error instanceof SyntaxError;
}
