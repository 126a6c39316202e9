// The catalog of a store's event types: each type's versions with their JSON Schema, and the
// upcasters that turn an event of version n-1 into version n (or into events of other types:
// a rename or a split). Appends are validated against the latest version; every read path
// upcasts what it reads to the latest versions. The log itself is never rewritten.
import { Ajv, type ValidateFunction } from 'ajv';
import { InvalidArgumentError } from '../errors.js';
import { recordedEvent, type StoredEvent } from '../records/event-record.js';
import { InvalidEventError, UnknownEventError } from '../streams/errors.js';
import type { Metadata, RecordedEvent } from '../streams/event.js';

/** A JSON Schema document (draft 2020-12 or 07 keywords that Ajv understands). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** An event on its way through the upcasters: its type, the version of that type, its data. */
export interface VersionedEvent {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata?: Metadata;
}

/** An upcaster's answer when the event becomes other events: a rename, or a split into several. */
export class UpcastInto {
  constructor(readonly events: readonly Omit<VersionedEvent, 'metadata'>[]) {}
}

/** Upcasting to events of other types (with the versions of those types) rather than new data. */
export function into(...events: Omit<VersionedEvent, 'metadata'>[]): UpcastInto {
  return new UpcastInto(events);
}

/** From version n-1 of an event type to version n: the new data, or `into(...)` other events. */
export type Upcaster = (data: unknown, event: VersionedEvent) => unknown;

export interface EventTypeVersion {
  readonly schema: JsonSchema;
  /** Required from version 2 on: turns version n-1 into this one. */
  readonly upcast?: Upcaster;
}

/** What a read does with an event whose type or version the catalog does not know. */
export const unknownEventPolicies = ['fail', 'skip', 'raw'] as const;
export type UnknownEventPolicy = (typeof unknownEventPolicies)[number];

interface DefinedVersion extends EventTypeVersion {
  readonly validate: ValidateFunction;
}

/** Upcasting more steps than this means upcasters that loop. */
const maxUpcastSteps = 1_000;

export class EventSchemas {
  private readonly types = new Map<string, DefinedVersion[]>();
  private readonly ajv = new Ajv({ allErrors: false, strict: false });

  /** Declares version `version` of `type` (versions from 1, in order; 2 and up need `upcast`). */
  define(type: string, version: number, schema: JsonSchema, options: { upcast?: Upcaster } = {}): this {
    if (typeof type !== 'string' || type.length === 0) throw new InvalidArgumentError('type', 'must be a non-empty string');
    // The same rule as an event's type: it names a registry subject and a record header.
    if (!type.isWellFormed() || /[\u0000-\u001f\u007f]/.test(type) || Buffer.byteLength(type) > 256) {
      throw new InvalidArgumentError('type', 'must be well-formed Unicode without control characters, at most 256 bytes');
    }
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object { upcast? } or undefined');
    let upcast: unknown;
    try {
      upcast = options.upcast;
    } catch (error) {
      throw new InvalidArgumentError('options', `could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (upcast !== undefined && typeof upcast !== 'function') throw new InvalidArgumentError('upcast', 'must be a function');
    const versions = this.types.get(type) ?? [];
    if (version !== versions.length + 1) throw new InvalidArgumentError('version', `${type}: expected version ${versions.length + 1}, got ${typeof version === 'number' ? String(version) : `a ${typeof version}`} (define versions in order from 1)`);
    if (typeof schema !== 'object' && typeof schema !== 'boolean') throw new InvalidArgumentError('schema', `${type} version ${version}: must be a JSON Schema (an object)`);
    if (version > 1 && typeof upcast !== 'function') throw new InvalidArgumentError('upcast', `${type} version ${version} needs an upcaster from version ${version - 1}`);
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(schema);
    } catch (error) {
      throw new InvalidArgumentError('schema', `${type} version ${version}: ${(error as Error).message}`);
    }
    versions.push({ schema, ...(upcast ? { upcast: upcast as Upcaster } : {}), validate });
    this.types.set(type, versions);
    return this;
  }

  /** Every defined type with its versions' schemas, oldest first. */
  entries(): [type: string, schemas: JsonSchema[]][] {
    return [...this.types].map(([type, versions]) => [type, versions.map((v) => v.schema)]);
  }

  /** Throws InvalidEventError naming the field when `data` does not match the type's latest schema. */
  validate(index: number, type: string, data: unknown): number {
    const versions = this.types.get(type);
    if (!versions) throw new InvalidEventError(index, `type "${type}" is not defined in the store's event schemas`);
    const latest = versions[versions.length - 1]!;
    if (!latest.validate(data)) {
      const [first] = latest.validate.errors ?? [];
      const field = first?.instancePath ? `data${first.instancePath.replaceAll('/', '.')}` : 'data';
      const missing = first?.keyword === 'required' ? `.${String((first.params as { missingProperty?: string }).missingProperty)}` : '';
      throw new InvalidEventError(index, `${field}${missing}: ${first?.message ?? 'does not match the schema'} (${type} version ${versions.length})`);
    }
    return versions.length;
  }

  /** The event as the latest versions of its type(s) describe it: none, one or several. */
  upcast(event: VersionedEvent, policy: UnknownEventPolicy): VersionedEvent[] {
    const out: VersionedEvent[] = [];
    const pending: VersionedEvent[] = [event];
    for (let steps = 0; pending.length > 0; steps++) {
      if (steps > maxUpcastSteps) throw new UnknownEventError(event.type, event.schemaVersion, 'the upcasters do not terminate');
      const current = pending.shift()!;
      const versions = this.types.get(current.type);
      if (!versions || current.schemaVersion < 1 || current.schemaVersion > versions.length) {
        if (policy === 'fail') throw new UnknownEventError(current.type, current.schemaVersion, versions ? `the catalog knows versions 1-${versions.length}` : 'the type is not defined');
        if (policy === 'raw') out.push(current);
        continue;
      }
      if (current.schemaVersion === versions.length) {
        out.push(current);
        continue;
      }
      const next = versions[current.schemaVersion]!;
      const result = next.upcast!(current.data, current);
      if (result instanceof UpcastInto) pending.unshift(...result.events.map((e) => ({ ...e, ...(current.metadata ? { metadata: current.metadata } : {}) })));
      else pending.unshift({ ...current, schemaVersion: current.schemaVersion + 1, data: result });
    }
    return out;
  }
}

/** How every read path turns a stored event into what the caller sees: decoded, and upcast when the store has schemas. */
export type EventReader = (stored: StoredEvent) => RecordedEvent[];

export function eventReader(schemas: EventSchemas | undefined, policy: UnknownEventPolicy): EventReader {
  if (!schemas) return (stored) => [recordedEvent(stored)];
  return (stored) => {
    const recorded = recordedEvent(stored);
    // Events written before the store had schemas count as version 1 of their type.
    const upcast = schemas.upcast({ type: recorded.type, schemaVersion: stored.schemaVersion ?? 1, data: recorded.data, metadata: recorded.metadata }, policy);
    return upcast.map((e) => ({ ...recorded, type: e.type, data: e.data, schemaVersion: e.schemaVersion }));
  };
}
