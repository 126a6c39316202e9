// The one mapping between Scribe's error classes and what crosses processes: every error an
// owner answers with reaches the requester as the same class, with its code, its fields and
// its message as the owner wrote it. Adding an error class means adding its code here (a
// unit test fails until then).
import { InvalidArgumentError, ScribeError, TimeoutError } from '../errors.js';
import { AuthenticationError, AuthorizationError, KafkaOperationError, TlsError, type AclResourceType, type TlsFailure } from '../kafka/errors.js';
import { IncompatibleSchemaError, SchemaRegistryUnavailableError } from '../schemas/schema-registry.js';
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
  WriterFailedError,
  StreamNotFoundError,
  UnknownEventError,
  WrongExpectedVersionError,
} from '../streams/errors.js';
import { expectedVersionStates, type ExpectedVersion } from '../streams/expected-version.js';

/** Every code a ScribeError can carry. */
export const errorCodes = [
  'INVALID_ARGUMENT',
  'TIMEOUT',
  'WRONG_EXPECTED_VERSION',
  'STREAM_NOT_FOUND',
  'INVALID_EVENT',
  'EVENT_ID_CONFLICT',
  'APPEND_OUTCOME_UNKNOWN',
  'OWNERSHIP_CHANGED',
  'APPEND_ABORTED',
  'APPEND_REFUSED',
  'STORE_CLOSED',
  'COMMAND_REJECTED',
  'DECIDER_NOT_REGISTERED',
  'UNKNOWN_EVENT',
  'KAFKA_ERROR',
  'INCOMPATIBLE_SCHEMA',
  'SCHEMA_REGISTRY_UNAVAILABLE',
  'WRITER_FAILED',
  'AUTHENTICATION_FAILED',
  'AUTHORIZATION_FAILED',
  'TLS_FAILED',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (errorCodes as readonly string[]).includes(code);
}

/** A field of an error as it travels: JSON scalars only. */
export type WireField = string | number | boolean | null;

/** An error as it travels: its code, its message verbatim, and the fields its class carries. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, WireField>>;
}

/**
 * What the requester knows when it decodes: an error from an owner of an earlier version may
 * lack a field (a stream id, a partition) that the request itself names.
 */
export interface ErrorContext {
  readonly streamId: string;
  readonly partition: number;
}

/** Reads a decoded error's fields, with the requester's context where one is missing or mistyped. */
class Fields {
  constructor(
    private readonly fields: Readonly<Record<string, unknown>>,
    readonly context: ErrorContext,
  ) {}

  string(name: string, fallback = ''): string {
    const value = this.fields[name];
    return typeof value === 'string' ? value : fallback;
  }

  optionalString(name: string): string | undefined {
    const value = this.fields[name];
    return typeof value === 'string' ? value : undefined;
  }

  number(name: string, fallback = -1): number {
    const value = this.fields[name];
    return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
  }

  optionalNumber(name: string): number | undefined {
    const value = this.fields[name];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }

  boolean(name: string): boolean {
    return this.fields[name] === true;
  }

  expectedVersion(name: string): ExpectedVersion {
    const value = this.fields[name];
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && (expectedVersionStates as readonly string[]).includes(value)) return value as ExpectedVersion;
    return 'any';
  }
}

interface ErrorClassCodec<E extends ScribeError> {
  /** The class, for `instanceof` when encoding and for the coverage test. */
  readonly type: abstract new (...args: never[]) => E;
  /** The fields the class carries beyond its code and message. */
  fields(error: E): Record<string, WireField>;
  /** A new instance from the fields; its message is then set to the owner's, verbatim. */
  revive(fields: Fields): E;
}

function codec<E extends ScribeError>(definition: ErrorClassCodec<E>): ErrorClassCodec<ScribeError> {
  return definition as unknown as ErrorClassCodec<ScribeError>;
}

/** A reason passed to a constructor only to be replaced by the message the owner wrote. */
const replaced = '';

const codecs: { readonly [Code in ErrorCode]: ErrorClassCodec<ScribeError> } = {
  INVALID_ARGUMENT: codec({
    type: InvalidArgumentError,
    fields: (e) => ({ argument: e.argument }),
    revive: (f) => new InvalidArgumentError(f.string('argument', 'request'), replaced),
  }),
  TIMEOUT: codec({
    type: TimeoutError,
    fields: (e) => ({ operation: e.operation, timeoutMs: e.timeoutMs }),
    revive: (f) => new TimeoutError(f.string('operation'), f.number('timeoutMs', 0)),
  }),
  WRONG_EXPECTED_VERSION: codec({
    type: WrongExpectedVersionError,
    fields: (e) => ({ streamId: e.streamId, expected: e.expected, actual: e.actual }),
    revive: (f) => new WrongExpectedVersionError(f.string('streamId', f.context.streamId), f.expectedVersion('expected'), f.number('actual')),
  }),
  STREAM_NOT_FOUND: codec({
    type: StreamNotFoundError,
    fields: (e) => ({ streamId: e.streamId }),
    revive: (f) => new StreamNotFoundError(f.string('streamId', f.context.streamId)),
  }),
  INVALID_EVENT: codec({
    type: InvalidEventError,
    fields: (e) => ({ index: e.index }),
    revive: (f) => new InvalidEventError(f.number('index', 0), replaced),
  }),
  EVENT_ID_CONFLICT: codec({
    type: EventIdConflictError,
    fields: (e) => ({ streamId: e.streamId, eventId: e.eventId }),
    revive: (f) => new EventIdConflictError(f.string('streamId', f.context.streamId), f.string('eventId'), replaced),
  }),
  APPEND_OUTCOME_UNKNOWN: codec({
    type: AppendOutcomeUnknownError,
    fields: (e) => ({ streamId: e.streamId }),
    revive: (f) => new AppendOutcomeUnknownError(f.string('streamId', f.context.streamId), replaced),
  }),
  OWNERSHIP_CHANGED: codec({
    type: OwnershipChangedError,
    fields: (e) => ({ partition: e.partition }),
    revive: (f) => new OwnershipChangedError(f.number('partition', f.context.partition), replaced),
  }),
  APPEND_ABORTED: codec({
    type: AppendAbortedError,
    fields: (e) => ({ streamId: e.streamId }),
    revive: (f) => new AppendAbortedError(f.string('streamId', f.context.streamId), replaced),
  }),
  APPEND_REFUSED: codec({
    type: AppendRefusedError,
    fields: (e) => ({ streamId: e.streamId, kafkaCode: e.kafkaCode }),
    revive: (f) => new AppendRefusedError(f.string('streamId', f.context.streamId), f.number('kafkaCode', 0), replaced),
  }),
  AUTHENTICATION_FAILED: codec({
    type: AuthenticationError,
    fields: (e) => ({ operation: e.operation }),
    revive: (f) => new AuthenticationError(f.string('operation'), replaced),
  }),
  AUTHORIZATION_FAILED: codec({
    type: AuthorizationError,
    fields: (e) => ({ operation: e.operation, kafkaCode: e.kafkaCode, resourceType: e.resourceType, aclOperation: e.aclOperation, resource: e.resource ?? null }),
    revive: (f) =>
      new AuthorizationError(
        f.string('operation'),
        { message: replaced, code: f.number('kafkaCode', 0), errno: f.number('kafkaCode', 0), origin: 'remote' },
        f.string('resourceType') as AclResourceType,
        f.string('aclOperation'),
        f.optionalString('resource'),
      ),
  }),
  TLS_FAILED: codec({
    type: TlsError,
    fields: (e) => ({ operation: e.operation, failure: e.failure }),
    revive: (f) => new TlsError(f.string('operation'), f.string('failure', 'handshake') as TlsFailure, replaced),
  }),
  WRITER_FAILED: codec({
    type: WriterFailedError,
    fields: (e) => ({ partition: e.partition }),
    revive: (f) => new WriterFailedError(f.number('partition', -1)),
  }),
  STORE_CLOSED: codec({
    type: StoreClosedError,
    fields: () => ({}),
    revive: () => new StoreClosedError(replaced),
  }),
  COMMAND_REJECTED: codec({
    type: CommandRejectedError,
    fields: (e) => ({ streamId: e.streamId, errorName: e.errorName, errorCode: e.errorCode ?? null }),
    revive: (f) => new CommandRejectedError(f.string('streamId', f.context.streamId), f.string('errorName', 'Error'), f.optionalString('errorCode'), replaced),
  }),
  DECIDER_NOT_REGISTERED: codec({
    type: DeciderNotRegisteredError,
    fields: (e) => ({ decider: e.decider }),
    revive: (f) => new DeciderNotRegisteredError(f.string('decider')),
  }),
  UNKNOWN_EVENT: codec({
    type: UnknownEventError,
    fields: (e) => ({ type: e.type, schemaVersion: e.schemaVersion }),
    revive: (f) => new UnknownEventError(f.string('type'), f.number('schemaVersion', 0), replaced),
  }),
  KAFKA_ERROR: codec({
    type: KafkaOperationError,
    fields: (e) => ({ operation: e.operation, kafkaCode: e.kafkaCode, retriable: e.retriable, abortable: e.abortable, fatal: e.fatal }),
    // `fenced` and `indefinite` follow from the code, as they do at the owner.
    revive: (f) =>
      new KafkaOperationError(f.string('operation'), {
        message: replaced,
        code: f.number('kafkaCode', 0),
        errno: f.number('kafkaCode', 0),
        origin: 'remote',
        isRetriable: f.boolean('retriable'),
        isTxnRequiresAbort: f.boolean('abortable'),
        isFatal: f.boolean('fatal'),
      }),
  }),
  INCOMPATIBLE_SCHEMA: codec({
    type: IncompatibleSchemaError,
    fields: (e) => ({ subject: e.subject, schemaVersion: e.schemaVersion }),
    revive: (f) => new IncompatibleSchemaError(f.string('subject'), f.number('schemaVersion', 0), replaced),
  }),
  SCHEMA_REGISTRY_UNAVAILABLE: codec({
    type: SchemaRegistryUnavailableError,
    fields: (e) => ({ url: e.url, status: e.status ?? null }),
    revive: (f) => new SchemaRegistryUnavailableError(f.string('url'), f.optionalNumber('status'), replaced),
  }),
};

/** The classes the codec knows, by code: the coverage test reads it. */
export function errorClasses(): ReadonlyMap<ErrorCode, abstract new (...args: never[]) => ScribeError> {
  return new Map(errorCodes.map((code) => [code, codecs[code].type]));
}

/** The error as it travels. A ScribeError of a code the list lacks travels as its code and message only. */
export function encodeError(error: ScribeError): WireError {
  const known = isErrorCode(error.code) ? codecs[error.code] : undefined;
  const fields = known && error instanceof known.type ? known.fields(error) : {};
  return { code: error.code, message: error.message, fields };
}

/**
 * The error again, as its own class. A code this version does not know (an owner of a later
 * version) cannot be interpreted: it reads as an unknown outcome, which a retry with the same
 * ids resolves whatever the owner meant.
 */
export function decodeError(wire: { readonly code?: unknown; readonly message?: unknown; readonly fields?: unknown }, context: ErrorContext): ScribeError {
  const message = typeof wire.message === 'string' ? wire.message : '';
  if (!isErrorCode(wire.code)) {
    return new AppendOutcomeUnknownError(context.streamId, `the owner answered ${String(wire.code)}, which this version of Scribe does not know: ${message}`);
  }
  const fields = typeof wire.fields === 'object' && wire.fields !== null ? (wire.fields as Record<string, unknown>) : {};
  const error = codecs[wire.code].revive(new Fields(fields, context));
  // The message as the owner wrote it: constructors compose theirs from a reason that is not kept.
  error.message = message;
  return error;
}
