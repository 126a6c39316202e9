// Every error an owner answers with crosses processes as itself: the same class, code, fields
// and message. No broker: the codec is pure.
import { describe, expect, it } from 'vitest';
import * as baseErrors from '../../src/errors.js';
import { InvalidArgumentError, ScribeError, TimeoutError } from '../../src/errors.js';
import * as kafkaErrors from '../../src/kafka/errors.js';
import { AuthenticationError, AuthorizationError, KafkaOperationError, TlsError } from '../../src/kafka/errors.js';
import { commandRefusal } from '../../src/aggregates/command-runner.js';
import { decodeError, encodeError, errorClasses, errorCodes, type ErrorCode } from '../../src/owner-protocol/error-codec.js';
import * as schemaErrors from '../../src/schemas/schema-registry.js';
import { IncompatibleSchemaError, SchemaRegistryUnavailableError } from '../../src/schemas/schema-registry.js';
import * as streamErrors from '../../src/streams/errors.js';
import {
  AppendAbortedError,
  AppendOutcomeUnknownError,
  AppendRefusedError,
  CommandRejectedError,
  DeciderNotRegisteredError,
  EventIdConflictError,
  InvalidEventError,
  OwnershipChangedError,
  StoreClosedError,
  StreamNotFoundError,
  UnknownEventError,
  WrongExpectedVersionError,
  WriterFailedError,
} from '../../src/streams/errors.js';

/** One instance of every code, with fields that differ from any default a decoder could fall back on. */
const samples = {
  INVALID_ARGUMENT: new InvalidArgumentError('events[3].data', 'is a function'),
  TIMEOUT: new TimeoutError('commitTransaction', 7_500),
  WRONG_EXPECTED_VERSION: new WrongExpectedVersionError('acc-7', 41, 43),
  STREAM_NOT_FOUND: new StreamNotFoundError('nobody'),
  INVALID_EVENT: new InvalidEventError(5, 'the append is larger than the events topic accepts'),
  EVENT_ID_CONFLICT: new EventIdConflictError('acc-8', 'id-9', 'it was stored in another stream'),
  APPEND_OUTCOME_UNKNOWN: new AppendOutcomeUnknownError('acc-9', 'the commit timed out'),
  OWNERSHIP_CHANGED: new OwnershipChangedError(11, 'ownership moved to another process'),
  APPEND_ABORTED: new AppendAbortedError('acc-10', 'broker went away'),
  APPEND_REFUSED: new AppendRefusedError('acc-11', 29, 'not authorized'),
  STORE_CLOSED: new StoreClosedError('append'),
  COMMAND_REJECTED: new CommandRejectedError('acc-12', 'AccountError', 'INSUFFICIENT_FUNDS', 'balance 3 is below 4'),
  DECIDER_NOT_REGISTERED: new DeciderNotRegisteredError('account'),
  UNKNOWN_EVENT: new UnknownEventError('Withdrawn', 3, 'no such version'),
  KAFKA_ERROR: new KafkaOperationError('transaction', { message: 'fenced', code: -144, errno: -144, origin: 'test', isRetriable: false, isTxnRequiresAbort: true, isFatal: true }),
  INCOMPATIBLE_SCHEMA: new IncompatibleSchemaError('store.events-Opened', 2, 'a field was removed'),
  SCHEMA_REGISTRY_UNAVAILABLE: new SchemaRegistryUnavailableError('http://registry:8081', 503, 'service unavailable'),
  WRITER_FAILED: new WriterFailedError(7, { cause: new TypeError('x is undefined') }),
  AUTHENTICATION_FAILED: new AuthenticationError('connect', 'SASL authentication error: invalid credentials'),
  AUTHORIZATION_FAILED: new AuthorizationError('produce', { message: 'not authorized', code: 29, errno: 29, origin: 'test' }, 'TOPIC', 'WRITE', 'bank.events'),
  TLS_FAILED: new TlsError('connect', 'unknown-ca', 'certificate verify failed'),
} satisfies Record<ErrorCode, ScribeError>;

const context = { streamId: 'context-stream', partition: 99 };

/** What a requester can observe of an error: everything but its stack and cause. */
function observable(error: Error): Record<string, unknown> {
  const { stack: _stack, cause: _cause, ...fields } = Object.fromEntries(Object.entries(error)) as Record<string, unknown>;
  return { ...fields, name: error.name, message: error.message, constructor: error.constructor };
}

describe('the error codec', () => {
  it.each(Object.entries(samples))('%s crosses processes with its class, code, fields and message', (code, error) => {
    const travelled = JSON.parse(JSON.stringify(encodeError(error))) as unknown as Parameters<typeof decodeError>[0];
    const decoded = decodeError(travelled, context);
    expect(decoded).toBeInstanceOf(error.constructor);
    expect(decoded.code).toBe(code);
    expect(decoded.retriable).toBe(error.retriable);
    expect(observable(decoded)).toEqual(observable(error));
  });

  it('lists every code once, and each sample carries the code it is listed under', () => {
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
    for (const [code, error] of Object.entries(samples)) expect(error.code).toBe(code);
    expect(Object.keys(samples).sort()).toEqual([...errorCodes].sort());
  });

  it('knows every error class of src/errors.ts and src/streams/errors.ts (and the Kafka and schema errors)', () => {
    const known = new Set(errorClasses().values());
    const modules = { 'src/errors.ts': baseErrors, 'src/streams/errors.ts': streamErrors, 'src/kafka/errors.ts': kafkaErrors, 'src/schemas/schema-registry.ts': schemaErrors };
    const classes = Object.entries(modules).flatMap(([file, exports]) =>
      Object.entries(exports)
        .filter(([, value]) => typeof value === 'function' && value.prototype instanceof ScribeError)
        .map(([name, value]) => ({ name: `${file}: ${name}`, type: value })),
    );
    expect(classes.length).toBeGreaterThanOrEqual(16);
    expect(classes.filter((c) => !known.has(c.type as never)).map((c) => c.name)).toEqual([]);
  });

  it('fills a field an earlier owner did not send from what the requester knows of its request', () => {
    const decoded = decodeError({ code: 'WRONG_EXPECTED_VERSION', message: 'stream "s" is at version 3, the append expected version 2', fields: { expected: 2, actual: 3 } }, { streamId: 's', partition: 0 });
    expect(decoded).toBeInstanceOf(WrongExpectedVersionError);
    expect(decoded).toMatchObject({ streamId: 's', expected: 2, actual: 3 });
    const moved = decodeError({ code: 'OWNERSHIP_CHANGED', message: 'partition 4: moved', fields: {} }, { streamId: 's', partition: 4 });
    expect(moved).toMatchObject({ code: 'OWNERSHIP_CHANGED', partition: 4 });
  });

  it('reads a code it does not know (an owner of a later version) as an unknown outcome, which a retry resolves', () => {
    const decoded = decodeError({ code: 'SOMETHING_NEW', message: 'what', fields: {} }, context);
    expect(decoded).toBeInstanceOf(AppendOutcomeUnknownError);
    expect(decoded.retriable).toBe(true);
    expect(decoded.message).toMatch(/SOMETHING_NEW/);
  });
});

describe('a decider\'s refusal', () => {
  class AccountError extends Error {
    readonly code = 'INSUFFICIENT_FUNDS';
  }

  it('is CommandRejectedError carrying the decider error\'s name, code and message, with the error itself as cause', () => {
    const own = new AccountError('balance 3 is below 4');
    own.name = 'AccountError';
    const refusal = commandRefusal(own, 'acc-1');
    expect(refusal).toBeInstanceOf(CommandRejectedError);
    expect(refusal).toMatchObject({ code: 'COMMAND_REJECTED', streamId: 'acc-1', errorName: 'AccountError', errorCode: 'INSUFFICIENT_FUNDS' });
    expect(refusal.message).toBe('command on "acc-1" refused: AccountError: balance 3 is below 4');
    expect(refusal.cause).toBe(own);
  });

  it('leaves a Scribe error the decider or its encoding threw as it is', () => {
    const invalid = new InvalidArgumentError('decider.decide', 'must return an array of events, returned null');
    expect(commandRefusal(invalid, 'acc-1')).toBe(invalid);
  });
});
