// The errors an event store answers with: each a class with a stable code.
import { ScribeError } from '../errors.js';
import type { ExpectedVersion } from './expected-version.js';

/** The stream's version is not the one the append expected. Reload, decide again, retry. */
export class WrongExpectedVersionError extends ScribeError {
  readonly code = 'WRONG_EXPECTED_VERSION';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    /** The stream's current version (-1 when it has no event). */
    readonly actual: number,
  ) {
    super(`stream "${streamId}" is at version ${actual}, the append expected ${typeof expected === 'number' ? `version ${expected}` : expected}`);
  }
}

export class StreamNotFoundError extends ScribeError {
  readonly code = 'STREAM_NOT_FOUND';
  constructor(readonly streamId: string) {
    super(`stream "${streamId}" has no events`);
  }
}

/** An event is not acceptable as given (missing type, data that cannot be encoded, too large, ...). */
export class InvalidEventError extends ScribeError {
  readonly code = 'INVALID_EVENT';
  constructor(
    readonly index: number,
    reason: string,
  ) {
    super(`event ${index}: ${reason}`);
  }
}

/** Some but not all of an append's event ids were stored before, or they were stored in another stream. */
export class EventIdConflictError extends ScribeError {
  readonly code = 'EVENT_ID_CONFLICT';
  constructor(
    readonly streamId: string,
    readonly eventId: string,
    reason: string,
  ) {
    super(`event id ${eventId} on stream "${streamId}": ${reason}`);
  }
}

/**
 * The append may or may not have been stored (a commit or a reply timed out, the owner
 * changed mid-way). Retry with the same event ids: the retry is applied at most once and
 * returns the first result if the first attempt was stored.
 */
export class AppendOutcomeUnknownError extends ScribeError {
  readonly code = 'APPEND_OUTCOME_UNKNOWN';
  override readonly retriable = true;
  constructor(
    readonly streamId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`append to "${streamId}" has an unknown outcome (${reason}); retry with the same event ids`, options);
  }
}

/** The append was not stored because the partition's owner changed or is not ready; retry. */
export class OwnershipChangedError extends ScribeError {
  readonly code = 'OWNERSHIP_CHANGED';
  override readonly retriable = true;
  constructor(
    readonly partition: number,
    reason: string,
  ) {
    super(`partition ${partition}: ${reason}; nothing was stored, retry`);
  }
}

/** The append's transaction was aborted (for a reason other than the append itself) and tried again without success; nothing was stored. */
export class AppendAbortedError extends ScribeError {
  readonly code = 'APPEND_ABORTED';
  override readonly retriable = true;
  constructor(
    readonly streamId: string,
    reason: string,
  ) {
    super(`append to "${streamId}" was not stored: its transaction was aborted (${reason}); retry`);
  }
}

/**
 * The broker refused the append's request definitely (no permission, a record it rejects):
 * nothing was stored, and the same call will be refused again until the cause is fixed.
 */
export class AppendRefusedError extends ScribeError {
  readonly code = 'APPEND_REFUSED';
  constructor(
    readonly streamId: string,
    /** The broker's (librdkafka's) numeric error code. */
    readonly kafkaCode: number,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`append to "${streamId}" was refused by the broker and not stored: ${reason}`, options);
  }
}

export class StoreClosedError extends ScribeError {
  readonly code = 'STORE_CLOSED';
  constructor(operation: string) {
    super(`${operation}: the store is closed`);
  }
}

/**
 * A command run at the stream's owner (`execute`) was refused by its decider, in this process
 * or in another: the decider's error's name, code and message, and (where the decider ran in
 * this process) the error itself as `cause`.
 */
export class CommandRejectedError extends ScribeError {
  readonly code = 'COMMAND_REJECTED';
  constructor(
    readonly streamId: string,
    /** The `name` of the error the decider threw. */
    readonly errorName: string,
    /** Its `code` property, when it had one. */
    readonly errorCode: string | undefined,
    message: string,
    /** `cause`: the decider's error itself, in the process that ran the decider. */
    options?: { cause?: unknown },
  ) {
    super(`command on "${streamId}" refused: ${errorName}: ${message}`, options);
  }
}

/** `execute` named a decider that the stream's owner has not registered. */
export class DeciderNotRegisteredError extends ScribeError {
  readonly code = 'DECIDER_NOT_REGISTERED';
  constructor(readonly decider: string) {
    super(`no decider "${decider}" is registered at the stream's owner; call store.register("${decider}", decider) on every writer process`);
  }
}

/** A read met an event whose type or version the store's event schemas do not know (policy 'fail'). */
export class UnknownEventError extends ScribeError {
  readonly code = 'UNKNOWN_EVENT';
  constructor(
    readonly type: string,
    readonly schemaVersion: number,
    reason: string,
  ) {
    super(`event type "${type}" version ${schemaVersion} cannot be read: ${reason}; define it, or choose onUnknownEvent 'skip' or 'raw'`);
  }
}

/**
 * The partition's writer in this process stopped after a failure of Scribe's own (a bug, or
 * its local index failing), not of Kafka: nothing of the append was stored. Report it. The
 * writer group starts a new writer for the partition after a session timeout. (An append
 * whose commit was already asked for ends in AppendOutcomeUnknownError, with this as cause.)
 */
export class WriterFailedError extends ScribeError {
  readonly code = 'WRITER_FAILED';
  constructor(
    readonly partition: number,
    options?: { cause?: unknown },
  ) {
    super(`partition ${partition}: the writer stopped after an internal failure (${options?.cause instanceof Error ? `${options.cause.name}: ${options.cause.message}` : String(options?.cause)})`, options);
  }
}
