// Registry credentials: basic auth and bearer tokens reach the registry; a registry that refuses
// them, or cannot be reached, is reported as SCHEMA_REGISTRY_UNAVAILABLE with the status and the
// fix, never as INCOMPATIBLE_SCHEMA, and never with the secret in the message. A real HTTP
// server stands in for the registry's authentication front.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSchemas, IncompatibleSchemaError, SchemaRegistryUnavailableError } from '../../src/index.js';
import { RegisteredSchemas } from '../../src/schemas/schema-registry.js';
import { freePorts } from '../../src/local-kafka/cluster.js';

const schemas = new EventSchemas().define('Opened', 1, { type: 'object' });
const seen: (string | undefined)[] = [];
let server: Server;
let url: string;

function allowed(request: IncomingMessage): boolean {
  const header = request.headers.authorization;
  return header === `Basic ${Buffer.from('key:secret-1').toString('base64')}` || header === 'Bearer token-1';
}

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request.headers.authorization);
    request.resume();
    response.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
    if (!allowed(request)) {
      response.statusCode = 401;
      response.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      return;
    }
    response.end(JSON.stringify(request.method === 'POST' && request.url?.endsWith('/versions') ? { id: 7 } : { compatibilityLevel: 'BACKWARD' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('schema registry credentials', () => {
  it('basic auth and a bearer token are sent and accepted', async () => {
    await expect(RegisteredSchemas.register({ url, auth: { username: 'key', password: 'secret-1' } }, 's.events', schemas)).resolves.toBeInstanceOf(RegisteredSchemas);
    await expect(RegisteredSchemas.register({ url, auth: { token: 'token-1' } }, 's.events', schemas)).resolves.toBeInstanceOf(RegisteredSchemas);
    expect(seen).toContain('Bearer token-1');
  });

  it('refused credentials are SCHEMA_REGISTRY_UNAVAILABLE with status 401 and the fix, not INCOMPATIBLE_SCHEMA, and no secret shown', async () => {
    const error = await RegisteredSchemas.register({ url, auth: { username: 'key', password: 'wrong-secret-9' } }, 's.events', schemas).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect(error).not.toBeInstanceOf(IncompatibleSchemaError);
    expect(error).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', status: 401 });
    expect((error as Error).message).toMatch(/schemaRegistry\.auth/);
    expect(`${(error as Error).message} ${String((error as Error).stack)}`).not.toContain('wrong-secret-9');
  });

  it('an unreachable registry is SCHEMA_REGISTRY_UNAVAILABLE (retriable), credentials in its URL not shown', async () => {
    const [port] = await freePorts(1);
    const error = await RegisteredSchemas.register({ url: `http://key:url-secret-3@127.0.0.1:${port}` }, 's.events', schemas).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retriable: true });
    expect((error as Error).message).not.toContain('url-secret-3');
  });
});
