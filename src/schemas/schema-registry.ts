// The store's event schemas in a Confluent-compatible schema registry: every version of every
// type registered under the subject `<store>.events-<type>` at connect (an incompatible change
// fails there, at deploy time), and event data written in the Confluent wire format so that
// any registry-aware consumer can decode it.
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { ScribeError } from '../errors.js';
import type { EventSchemas } from './event-schemas.js';

export const compatibilityLevels = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'] as const;
export type Compatibility = (typeof compatibilityLevels)[number];

export interface SchemaRegistryOptions {
  /** The registry's Confluent-compatible API, e.g. `http://host:8080/apis/ccompat/v7` for Apicurio. */
  readonly url: string;
  /**
   * Set on a subject when it is first registered: one level for every event type, or a level
   * per type (the others BACKWARD). Default BACKWARD.
   */
  readonly compatibility?: Compatibility | Readonly<Record<string, Compatibility>>;
  /** Credentials: HTTP basic (Confluent Cloud: the registry's API key and secret) or a bearer token. */
  readonly auth?: { readonly username: string; readonly password: string } | { readonly token: string };
  /** TLS to an https registry: its CA, a client certificate and key (files or PEM text); host names checked unless `verifyHostname: false`. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly verifyHostname?: boolean };
}

function pemText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.trimStart().startsWith('-----BEGIN ') ? value : readFileSync(value, 'utf8');
}

/** The URL without user info: never shown with a password in it. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(the registry URL)';
  }
}

function registryClient(options: SchemaRegistryOptions): SchemaRegistry {
  const { auth, tls } = options;
  const agent = tls
    ? new Agent({
        ...(tls.ca ? { ca: pemText(tls.ca) } : {}),
        ...(tls.cert ? { cert: pemText(tls.cert) } : {}),
        ...(tls.key ? { key: pemText(tls.key) } : {}),
        ...(tls.verifyHostname === false ? { checkServerIdentity: () => undefined } : {}),
      })
    : undefined;
  const bearer = auth && 'token' in auth ? auth.token : undefined;
  return new SchemaRegistry({
    host: options.url,
    ...(auth && 'username' in auth ? { auth: { username: auth.username, password: auth.password } } : {}),
    ...(agent ? { agent } : {}),
    ...(bearer ? { middlewares: [() => ({ request: (request) => request.enhance({ headers: { Authorization: `Bearer ${bearer}` } }) })] } : {}),
  });
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

/**
 * The registry could not be asked, or did not answer the question (unreachable, a server
 * error, a wrong URL, no permission): nothing was decided about the schema. Retriable when
 * the registry did not answer or answered with a server error.
 */
export class SchemaRegistryUnavailableError extends ScribeError {
  readonly code = 'SCHEMA_REGISTRY_UNAVAILABLE';
  override readonly retriable: boolean;
  constructor(
    readonly url: string,
    /** The HTTP status of the registry's answer, when there was one. */
    readonly status: number | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`schema registry ${shownUrl(url)} could not register the schemas: ${reason}${hintFor(status, reason)}`, options);
    this.retriable = status === undefined || status >= 500 || status === 400;
  }
}

function hintFor(status: number | undefined, reason: string): string {
  if (status === 401) return ' (the registry refused the credentials: check schemaRegistry.auth)';
  if (status === 403) return ' (the credentials may not register schemas for these subjects: ask for write access to them)';
  if (/certificate|self[- ]signed|altnames/i.test(reason)) return " (TLS: give the registry's CA with schemaRegistry.tls.ca, or use the host name its certificate names)";
  return '';
}

/** Statuses by which a registry refuses a schema itself: 409 incompatible, 422 invalid. */
const refusalStatuses = new Set([409, 422]);

/** The registry ids of the latest version of each event type, for writing the wire format. */
export class RegisteredSchemas {
  private constructor(private readonly ids: ReadonlyMap<string, number>) {}

  static subjectOf(eventsTopic: string, type: string): string {
    return `${eventsTopic}-${type}`;
  }

  static async register(options: SchemaRegistryOptions, eventsTopic: string, schemas: EventSchemas): Promise<RegisteredSchemas> {
    const registry = registryClient(options);
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
          const status = (error as { status?: unknown }).status;
          const message = error instanceof Error ? error.message : String(error);
          if (typeof status === 'number' && refusalStatuses.has(status)) throw new IncompatibleSchemaError(subject, i + 1, message);
          // Mappersmith answers a network failure as status 400 with the socket's message.
          throw new SchemaRegistryUnavailableError(options.url, typeof status === 'number' ? status : undefined, `${subject} version ${i + 1}: ${message}`, { cause: error });
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
