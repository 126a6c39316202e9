// The reply a remote requester gets for its append or command, committed in the writer's
// transaction with the events it answers for.
import { ScribeError } from '../errors.js';
import type { AppendReply } from '../records/append-request.js';
import { DeciderNotRegisteredError, EventIdConflictError, WrongExpectedVersionError } from '../streams/errors.js';
import type { AppendResult } from '../streams/event.js';

export function toReply(outcome: { readonly result?: AppendResult; readonly error?: unknown }): AppendReply {
  if (outcome.result) {
    return { ok: true, nextExpectedVersion: outcome.result.nextExpectedVersion, partition: outcome.result.position.partition, offset: outcome.result.position.offset };
  }
  const error = outcome.error;
  if (!(error instanceof ScribeError)) {
    const refusal = error instanceof Error ? error : new Error(String(error));
    const code = (refusal as { code?: unknown }).code;
    return { ok: false, code: 'COMMAND_REJECTED', message: refusal.message, errorName: refusal.name, ...(typeof code === 'string' ? { errorCode: code } : {}) };
  }
  return {
    ok: false,
    code: error.code,
    message: error.message,
    ...(error instanceof WrongExpectedVersionError ? { expected: error.expected, actual: error.actual } : {}),
    ...(error instanceof EventIdConflictError ? { eventId: error.eventId } : {}),
    ...(error instanceof DeciderNotRegisteredError ? { decider: error.decider } : {}),
  };
}
