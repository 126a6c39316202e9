// Checks every input of the public API before anything reaches Kafka, and encodes events:
// bad input is answered with a typed error and never touches a stream.
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { jsonContentType, registryJsonContentType, type EncodedEvent } from '../records/event-record.js';
import { InvalidEventError } from '../streams/errors.js';
import type { EventData } from '../streams/event.js';
import type { EventSchemas } from '../schemas/event-schemas.js';
import type { RegisteredSchemas } from '../schemas/schema-registry.js';

export const maxStreamIdBytes = 256;
export const maxTypeBytes = 256;
export const maxEventIdBytes = 128;

export function validateStreamId(streamId: unknown, argument = 'streamId'): asserts streamId is string {
  if (typeof streamId !== 'string') throw new InvalidArgumentError(argument, `must be a string, got ${typeof streamId}`);
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

export function encodeEvents(events: unknown, maxEventBytes: number, { schemas, registry }: EventEncoding = {}): EncodedEvent[] {
  if (!Array.isArray(events)) throw new InvalidArgumentError('events', 'must be an array of events');
  if (events.length === 0) throw new InvalidArgumentError('events', 'an append needs at least one event');
  const ids = new Set<string>();
  return events.map((event: unknown, index) => {
    if (typeof event !== 'object' || event === null) throw new InvalidEventError(index, 'must be an object { type, data, id?, metadata? }');
    const { type, data, id, metadata } = event as EventData;
    if (typeof type !== 'string' || type.length === 0) throw new InvalidEventError(index, 'has no type: `type` must be a non-empty string');
    if (Buffer.byteLength(type) > maxTypeBytes) throw new InvalidEventError(index, `type is longer than ${maxTypeBytes} bytes`);
    if (id !== undefined && (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > maxEventIdBytes)) {
      throw new InvalidEventError(index, `id must be a non-empty string of at most ${maxEventIdBytes} bytes`);
    }
    const eventId = id ?? randomUUID();
    if (ids.has(eventId)) throw new InvalidEventError(index, `id ${eventId} appears twice in this append`);
    ids.add(eventId);
    const encoded = toJson(data, index, 'data');
    const schemaVersion = schemas?.validate(index, type, data);
    let encodedMetadata: string | undefined;
    if (metadata !== undefined) {
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new InvalidEventError(index, 'metadata must be a plain object');
      if (Object.keys(metadata).length > 0) encodedMetadata = toJson(metadata, index, 'metadata');
    }
    const size = Buffer.byteLength(encoded) + Buffer.byteLength(encodedMetadata ?? '') + Buffer.byteLength(type) + eventId.length;
    if (size > maxEventBytes) throw new InvalidEventError(index, `is ${size} bytes encoded; the store accepts at most ${maxEventBytes}`);
    return {
      id: eventId,
      type,
      data: registry ? registry.encode(type, encoded) : Buffer.from(encoded),
      metadata: encodedMetadata,
      contentType: registry ? registryJsonContentType : jsonContentType,
      ...(schemaVersion === undefined ? {} : { schemaVersion }),
    };
  });
}

function toJson(value: unknown, index: number, field: string): string {
  if (value === undefined) throw new InvalidEventError(index, `${field} is undefined; use null for an event without data`);
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') throw new Error('a BigInt is not JSON');
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`${v} is not a JSON number`);
      if (typeof v === 'function' || typeof v === 'symbol') throw new Error(`a ${typeof v} is not JSON`);
      return v;
    });
  } catch (error) {
    throw new InvalidEventError(index, `${field} is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (json === undefined) throw new InvalidEventError(index, `${field} is not JSON-serialisable`);
  return json;
}

const storeNamePattern = /^[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,199}$/;

export function validateStoreName(store: unknown): asserts store is string {
  if (typeof store !== 'string' || !storeNamePattern.test(store)) {
    throw new InvalidArgumentError('store', `${JSON.stringify(store)} must be 1-200 characters of letters, digits, '.', '_' and '-' (it prefixes topic names)`);
  }
}

export function validatePositiveInteger(value: unknown, argument: string, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(argument, `${JSON.stringify(value)} must be an integer from 1 to ${max}`);
  }
}

/** A decider must at least have its three functions; its snapshot policy must make sense. */
export function validateDecider(decider: unknown): void {
  if (typeof decider !== 'object' || decider === null) throw new InvalidArgumentError('decider', 'must be an object { initialState, evolve, decide }');
  const { initialState, evolve, decide, snapshotVersion, snapshot } = decider as Record<string, unknown>;
  for (const [name, fn] of Object.entries({ initialState, evolve, decide })) {
    if (typeof fn !== 'function') throw new InvalidArgumentError(`decider.${name}`, 'must be a function');
  }
  if (snapshotVersion !== undefined) validatePositiveInteger(snapshotVersion, 'decider.snapshotVersion');
  if (snapshot === undefined) return;
  const policy = snapshot as Record<string, unknown>;
  if ('every' in policy) validatePositiveInteger(policy.every, 'decider.snapshot.every');
  else if ('intervalMs' in policy) validatePositiveInteger(policy.intervalMs, 'decider.snapshot.intervalMs');
  else if (typeof policy.when !== 'function') throw new InvalidArgumentError('decider.snapshot', 'must be { every: n }, { intervalMs: ms } or { when: (context) => boolean }');
}

/** A command travels to the owner as JSON: it must survive the trip. Returns its encoding. */
export function validateCommand(command: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(command);
  } catch (error) {
    throw new InvalidArgumentError('command', `is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (json === undefined) throw new InvalidArgumentError('command', 'is not JSON-serialisable');
  return json;
}
