// Classifies every error that comes out of librdkafka once, so that callers read flags
// (retriable, abortable, fenced, fatal) instead of matching numeric codes.
import rdkafka, { type LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { ScribeError } from '../errors.js';

const codes = rdkafka.CODES.ERRORS;

/** Codes that mean "a newer producer with this transactional.id exists": this one is a zombie. */
const fencedCodes = new Set<number>([codes.ERR__FENCED, codes.ERR_PRODUCER_FENCED, codes.ERR_INVALID_PRODUCER_EPOCH]);

/**
 * Codes after which the outcome of a produce or commit is not known: the write may or may
 * not have happened (KAFKA-13574: NOT_LEADER_OR_FOLLOWER and timeouts are not definite).
 */
const indefiniteCodes = new Set<number>([
  codes.ERR__TIMED_OUT,
  codes.ERR__TIMED_OUT_QUEUE,
  codes.ERR_REQUEST_TIMED_OUT,
  codes.ERR__MSG_TIMED_OUT,
  codes.ERR__TRANSPORT,
]);

export class KafkaOperationError extends ScribeError {
  readonly code = 'KAFKA_ERROR';
  /** librdkafka's numeric error code (negative: client-side, positive: broker). */
  readonly kafkaCode: number;
  override readonly retriable: boolean;
  /** The current transaction must be aborted; the producer itself stays usable. */
  readonly abortable: boolean;
  /** A newer instance owns this transactional.id; this producer can never write again. */
  readonly fenced: boolean;
  /** The client is unusable and must be destroyed. */
  readonly fatal: boolean;
  /** The operation may or may not have taken effect. */
  readonly indefinite: boolean;

  constructor(
    readonly operation: string,
    error: LibrdKafkaError,
  ) {
    super(`${operation} failed: ${error.message} (librdkafka code ${error.code})`, { cause: error });
    this.kafkaCode = error.code;
    this.fenced = fencedCodes.has(error.code);
    this.abortable = error.isTxnRequiresAbort === true;
    this.retriable = error.isRetriable === true;
    // librdkafka's guidance: an error with no flag set is to be treated as fatal for a
    // transactional producer; callers that are not transactional read `retriable` only.
    this.fatal = error.isFatal === true || this.fenced;
    this.indefinite = indefiniteCodes.has(error.code);
  }
}

/** Wraps a librdkafka error (or passes a Scribe error through) with the operation's name. */
export function kafkaError(operation: string, error: unknown): ScribeError {
  if (error instanceof ScribeError) return error;
  if (isLibrdKafkaError(error)) return new KafkaOperationError(operation, error);
  const message = error instanceof Error ? error.message : String(error);
  return new KafkaOperationError(operation, { message, code: codes.ERR_UNKNOWN, errno: codes.ERR_UNKNOWN, origin: 'scribe' });
}

function isLibrdKafkaError(error: unknown): error is LibrdKafkaError {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && 'message' in error;
}

export { codes as kafkaErrorCodes };
