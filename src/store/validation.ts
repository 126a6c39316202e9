// Checks every input of the public API before anything reaches Kafka, and encodes events:
// bad input is answered with a typed error and never touches a stream.
import { randomUUID } from 'node:crypto';
import { describeValue, InvalidArgumentError, ScribeError } from '../errors.js';
import { jsonContentType, registryJsonContentType, type EncodedEvent } from '../records/event-record.js';
import { InvalidEventError } from '../streams/errors.js';
import type { EventSchemas } from '../schemas/event-schemas.js';
import type { RegisteredSchemas } from '../schemas/schema-registry.js';

export const maxStreamIdBytes = 256;
export const maxTypeBytes = 256;
export const maxEventIdBytes = 128;
/** Events of one append: they go into one transaction (and, from another process, one request record). */
export const maxEventsPerAppend = 10_000;
/** The longest a timer can wait in Node.js (a longer delay fires at once). */
export const maxTimeoutMs = 2_147_483_647;

const controlCharacters = /[\u0000-\u001f\u007f]/;

export function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'an unprintable error';
  }
}

/**
 * Runs a check over a caller's value: what the value itself throws (a proxy, a getter) is
 * refused as INVALID_ARGUMENT naming the argument, never passed on as it is.
 */
export function guarded<T>(argument: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ScribeError) throw error;
    throw new InvalidArgumentError(argument, `could not be read: ${messageOf(error)}`);
  }
}

/** `options` of a call: undefined (all defaults) or a plain object; returns it as a record. */
export function validateOptions(options: unknown, argument = 'options'): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(argument, `must be an object or undefined, got ${describeValue(options)}`);
  // A copy, read once: a getter or a proxy cannot answer differently later (or throw later).
  try {
    return { ...(options as Record<string, unknown>) };
  } catch (error) {
    throw new InvalidArgumentError(argument, `could not be read: ${messageOf(error)}`);
  }
}

/** An integer from `min` to `max`; undefined gives the default. */
export function integerOption(value: unknown, argument: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(argument, `must be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  return value;
}

/** One of the `allowed` values (an `as const` list); undefined gives the default. */
export function oneOf<const T extends string>(value: unknown, argument: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(argument, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

export function functionOption<F>(value: unknown, argument: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidArgumentError(argument, `must be a function, got ${describeValue(value)}`);
  return value as F;
}

export function booleanOption(value: unknown, argument: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, `must be true or false, got ${describeValue(value)}`);
  return value;
}

/** A name that becomes part of a key, a group or a client id: printable, well-formed, bounded. */
export function validateName(value: unknown, argument: string, maxBytes = maxStreamIdBytes): asserts value is string {
  validateStreamId(value, argument);
  if (controlCharacters.test(value)) throw new InvalidArgumentError(argument, 'must not contain control characters');
  if (Buffer.byteLength(value) > maxBytes) throw new InvalidArgumentError(argument, `at most ${maxBytes} UTF-8 bytes`);
}

export function validateStreamId(streamId: unknown, argument = 'streamId'): asserts streamId is string {
  if (typeof streamId !== 'string') throw new InvalidArgumentError(argument, `must be a string, got ${describeValue(streamId)}`);
  if (streamId.length === 0) throw new InvalidArgumentError(argument, 'must not be empty');
  // Other clients hash the key's UTF-8 bytes: a lone surrogate has no agreed encoding.
  if (!streamId.isWellFormed()) throw new InvalidArgumentError(argument, 'must be well-formed Unicode');
  const bytes = Buffer.byteLength(streamId);
  if (bytes > maxStreamIdBytes) throw new InvalidArgumentError(argument, `is ${bytes} bytes long; at most ${maxStreamIdBytes} UTF-8 bytes`);
}

/** Validates and encodes the events of one append; the result is what the writer stores. */
/** How a store writes event data: validated against its schemas, in the registry's wire format. */
export interface EventEncoding {
  readonly schemas?: EventSchemas;
  readonly registry?: RegisteredSchemas;
}

export function encodeEvents(events: unknown, maxEventBytes: number, encoding: EventEncoding = {}): EncodedEvent[] {
  try {
    return encodeAll(events, maxEventBytes, encoding);
  } catch (error) {
    if (error instanceof ScribeError) throw error;
    // A proxy or a getter that throws, a Symbol.toPrimitive that lies, ...
    throw new InvalidArgumentError('events', `could not be read: ${messageOf(error)}`);
  }
}

function encodeAll(events: unknown, maxEventBytes: number, { schemas, registry }: EventEncoding): EncodedEvent[] {
  if (!Array.isArray(events)) throw new InvalidArgumentError('events', `must be an array of events, got ${describeValue(events)}`);
  const length = events.length;
  if (length === 0) throw new InvalidArgumentError('events', 'an append needs at least one event');
  if (length > maxEventsPerAppend) throw new InvalidArgumentError('events', `has ${length} events; an append takes at most ${maxEventsPerAppend}`);
  const ids = new Set<string>();
  // A plain loop over every index: `map` and `forEach` skip the holes of a sparse array, which
  // would store the events after a hole at the wrong versions (a stream with a gap).
  const encoded: EncodedEvent[] = [];
  for (let index = 0; index < length; index++) {
    if (!Object.hasOwn(events, index)) throw new InvalidEventError(index, 'is missing: the events array has a hole here (a sparse array)');
    encoded.push(encodeEvent(events[index], index, ids, maxEventBytes, schemas, registry));
  }
  return encoded;
}

function encodeEvent(event: unknown, index: number, ids: Set<string>, maxEventBytes: number, schemas: EventSchemas | undefined, registry: RegisteredSchemas | undefined): EncodedEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new InvalidEventError(index, `must be an object { type, data, id?, metadata? }, got ${describeValue(event)}`);
  // Each field is read once (a getter or a proxy may answer differently, or throw).
  let type: unknown, data: unknown, id: unknown, metadata: unknown;
  try {
    ({ type, data, id, metadata } = event as Record<string, unknown>);
  } catch (error) {
    throw new InvalidEventError(index, `could not be read: ${messageOf(error)}`);
  }
  if (typeof type !== 'string' || type.length === 0) throw new InvalidEventError(index, `has no type: \`type\` must be a non-empty string, got ${describeValue(type)}`);
  if (!type.isWellFormed() || controlCharacters.test(type)) throw new InvalidEventError(index, 'type must be well-formed Unicode without control characters');
  if (Buffer.byteLength(type) > maxTypeBytes) throw new InvalidEventError(index, `type is longer than ${maxTypeBytes} bytes`);
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || !id.isWellFormed() || Buffer.byteLength(id) > maxEventIdBytes)) {
    throw new InvalidEventError(index, `id must be a non-empty well-formed string of at most ${maxEventIdBytes} bytes, got ${describeValue(id)}`);
  }
  const eventId = (id as string | undefined) ?? randomUUID();
  if (ids.has(eventId)) throw new InvalidEventError(index, `id ${eventId} appears twice in this append`);
  ids.add(eventId);
  const json = toJson(data, index, 'data');
  let schemaVersion: number | undefined;
  try {
    schemaVersion = schemas?.validate(index, type, data);
  } catch (error) {
    if (error instanceof ScribeError) throw error;
    throw new InvalidEventError(index, `data could not be validated: ${messageOf(error)}`);
  }
  let encodedMetadata: string | undefined;
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new InvalidEventError(index, `metadata must be a plain object, got ${describeValue(metadata)}`);
    const metadataJson = toJson(metadata, index, 'metadata');
    if (metadataJson !== '{}') encodedMetadata = metadataJson;
  }
  const size = Buffer.byteLength(json) + Buffer.byteLength(encodedMetadata ?? '') + Buffer.byteLength(type) + Buffer.byteLength(eventId);
  if (size > maxEventBytes) throw new InvalidEventError(index, `is ${size} bytes encoded; the store accepts at most ${maxEventBytes}`);
  return {
    id: eventId,
    type,
    data: registry ? registry.encode(type, json) : Buffer.from(json),
    metadata: encodedMetadata,
    contentType: registry ? registryJsonContentType : jsonContentType,
    ...(schemaVersion === undefined ? {} : { schemaVersion }),
  };
}

/** JSON.stringify would drop or change these silently; refuse them instead. */
function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') throw new Error('a BigInt is not JSON');
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`${v} is not a JSON number`);
  if (typeof v === 'function' || typeof v === 'symbol') throw new Error(`a ${typeof v} is not JSON`);
  return v;
}

function toJson(value: unknown, index: number, field: string): string {
  if (value === undefined) throw new InvalidEventError(index, `${field} is undefined; use null for an event without data`);
  let json: string | undefined;
  try {
    json = JSON.stringify(value, jsonReplacer);
  } catch (error) {
    throw new InvalidEventError(index, `${field} is not JSON-serialisable: ${messageOf(error)}`);
  }
  if (json === undefined) throw new InvalidEventError(index, `${field} is not JSON-serialisable`);
  return json;
}

const storeNamePattern = /^[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,199}$/;

export function validateStoreName(store: unknown): asserts store is string {
  if (typeof store !== 'string' || !storeNamePattern.test(store)) {
    throw new InvalidArgumentError('store', `${describeValue(store)}: must be 1-200 characters of letters, digits, '.', '_' and '-' (it prefixes topic names)`);
  }
}

export function validatePositiveInteger(value: unknown, argument: string, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(argument, `must be an integer from 1 to ${max}, got ${describeValue(value)}`);
  }
}

/** A decider must at least have its three functions; its snapshot policy must make sense. */
export function validateDecider(decider: unknown): void {
  guarded('decider', () => checkDecider(decider));
}

function checkDecider(decider: unknown): void {
  if (typeof decider !== 'object' || decider === null) throw new InvalidArgumentError('decider', `must be an object { initialState, evolve, decide }, got ${describeValue(decider)}`);
  const { initialState, evolve, decide, snapshotVersion, snapshot, codec } = decider as Record<string, unknown>;
  for (const [name, fn] of Object.entries({ initialState, evolve, decide })) {
    if (typeof fn !== 'function') throw new InvalidArgumentError(`decider.${name}`, `must be a function, got ${describeValue(fn)}`);
  }
  if (snapshotVersion !== undefined) validatePositiveInteger(snapshotVersion, 'decider.snapshotVersion');
  if (codec !== undefined) {
    const { encode, decode } = (typeof codec === 'object' && codec !== null ? codec : {}) as Record<string, unknown>;
    if (typeof encode !== 'function' || typeof decode !== 'function') throw new InvalidArgumentError('decider.codec', 'must be { encode(state), decode(bytes) }');
  }
  if (snapshot === undefined) return;
  if (typeof snapshot !== 'object' || snapshot === null) throw new InvalidArgumentError('decider.snapshot', `must be { every: n }, { intervalMs: ms } or { when: (context) => boolean }, got ${describeValue(snapshot)}`);
  const policy = snapshot as Record<string, unknown>;
  if ('every' in policy) validatePositiveInteger(policy.every, 'decider.snapshot.every');
  else if ('intervalMs' in policy) validatePositiveInteger(policy.intervalMs, 'decider.snapshot.intervalMs', maxTimeoutMs);
  else if (typeof policy.when !== 'function') throw new InvalidArgumentError('decider.snapshot', 'must be { every: n }, { intervalMs: ms } or { when: (context) => boolean }');
}

/** What `decide` returned must be a list of events (checked in full when encoded). */

/**
 * A command travels to the owner as JSON: it must survive the trip unchanged (no BigInt,
 * NaN, Infinity, function or symbol) and fit in one request. Returns its encoding.
 */
export function validateCommand(command: unknown, maxBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(command, jsonReplacer);
  } catch (error) {
    throw new InvalidArgumentError('command', `is not JSON-serialisable: ${messageOf(error)}`);
  }
  if (json === undefined) throw new InvalidArgumentError('command', `is not JSON-serialisable: ${describeValue(command)}`);
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) throw new InvalidArgumentError('command', `is ${bytes} bytes as JSON; at most ${maxBytes}`);
  return json;
}
