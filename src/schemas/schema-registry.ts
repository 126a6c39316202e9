// The store's event schemas in a Confluent-compatible schema registry: every version of every
// type registered under the subject `<store>.events-<type>` at connect (an incompatible change
// fails there, at deploy time), and event data written in the Confluent wire format so that
// any registry-aware consumer can decode it.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { ScribeError } from '../errors.js';
import type { EventSchemas } from './event-schemas.js';

export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

export interface SchemaRegistryOptions {
  /** The registry's Confluent-compatible API, e.g. `http://host:8080/apis/ccompat/v7` for Apicurio. */
  readonly url: string;
  /**
   * Set on a subject when it is first registered: one level for every event type, or a level
   * per type (the others BACKWARD). Default BACKWARD.
   */
  readonly compatibility?: Compatibility | Readonly<Record<string, Compatibility>>;
}

/** A schema version the registry refused: not compatible with the versions before it. */
export class IncompatibleSchemaError extends ScribeError {
  readonly code = 'INCOMPATIBLE_SCHEMA';
  constructor(
    readonly subject: string,
    readonly schemaVersion: number,
    reason: string,
  ) {
    super(`schema registry refused version ${schemaVersion} of ${subject}: ${reason}`);
  }
}

/** The registry ids of the latest version of each event type, for writing the wire format. */
export class RegisteredSchemas {
  private constructor(private readonly ids: ReadonlyMap<string, number>) {}

  static subjectOf(eventsTopic: string, type: string): string {
    return `${eventsTopic}-${type}`;
  }

  static async register(options: SchemaRegistryOptions, eventsTopic: string, schemas: EventSchemas): Promise<RegisteredSchemas> {
    const registry = new SchemaRegistry({ host: options.url });
    const ids = new Map<string, number>();
    for (const [type, versions] of schemas.entries()) {
      const subject = RegisteredSchemas.subjectOf(eventsTopic, type);
      const compatibility = (typeof options.compatibility === 'string' ? options.compatibility : options.compatibility?.[type]) ?? 'BACKWARD';
      for (const [i, schema] of versions.entries()) {
        try {
          // Registering a version that is there already answers its id: connect is idempotent.
          const { id } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(schema) }, { subject, compatibility: compatibility as never });
          ids.set(type, id);
        } catch (error) {
          throw new IncompatibleSchemaError(subject, i + 1, (error as Error).message);
        }
      }
    }
    return new RegisteredSchemas(ids);
  }

  /** The data in the Confluent wire format: magic byte 0, the 4-byte schema id, the JSON. */
  encode(type: string, json: string): Buffer {
    const id = this.ids.get(type);
    if (id === undefined) throw new Error(`no registered schema for event type "${type}"`);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    return Buffer.concat([header, Buffer.from(json)]);
  }
}
