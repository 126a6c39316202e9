// The stream browser's server at the HTTP level: what it refuses, whoever asks. A page of
// another site must not read the store through it (DNS rebinding) nor append through it (a
// cross-site form), and a read-only browser appends nothing whatever it is sent.
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, type KafkaEventStore } from '../../src/index.js';
import { startScribe, type RunningCli } from '../support/scribe-cli.js';

const brokers = inject('brokers');

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function ask(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method: options.method ?? 'GET', headers: options.headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    sent.on('error', reject);
    sent.end(options.body);
  });
}

describe('the stream browser server', () => {
  const name = `ui-http-${randomUUID().slice(0, 8)}`;
  let store: KafkaEventStore;
  let readOnly: RunningCli;
  let appending: RunningCli;
  const urlOf = (cli: RunningCli) => /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(cli.stdout())![1]!;

  beforeAll(async () => {
    store = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}` });
    await store.append('doc-1', [{ type: 'Created', data: { title: '<script>alert(1)</script>' } }], { expectedVersion: 'no_stream' });
    readOnly = startScribe(brokers, 'ui', '--store', name, '--port', '0');
    appending = startScribe(brokers, 'ui', '--store', name, '--port', '0', '--allow-append');
    await Promise.all([readOnly.printed('stream browser of'), appending.printed('stream browser of')]);
  }, 180_000);

  afterAll(async () => {
    for (const cli of [readOnly, appending]) {
      if (cli && cli.child.exitCode === null) {
        cli.child.kill('SIGINT');
        expect(await cli.exited).toBe(0);
      }
    }
    await store?.close();
  });

  it('listens on 127.0.0.1 and serves the page with a strict content security policy', async () => {
    const page = await ask(urlOf(readOnly));
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe("default-src 'self'; img-src 'self' data:");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('<script src="/app.js" defer></script>');
    // Event data reaches the page as JSON, set there as text: never markup.
    const events = await ask(`${urlOf(readOnly)}api/events?stream=doc-1`);
    expect(JSON.parse(events.body).events[0].data).toEqual({ title: '<script>alert(1)</script>' });
    expect(events.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('answers no request addressed to another host (DNS rebinding)', async () => {
    const port = new URL(urlOf(readOnly)).port;
    const rebound = await ask(`${urlOf(readOnly)}api/events?stream=doc-1`, { headers: { host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body).error.code).toBe('FORBIDDEN_HOST');
    const local = await ask(`${urlOf(readOnly)}api/overview`, { headers: { host: `localhost:${port}` } });
    expect(local.status).toBe(200);
  });

  it('read-only: refuses every append with 403 READ_ONLY and writes nothing', async () => {
    const refused = await ask(`${urlOf(readOnly)}api/append`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stream: 'doc-1', type: 'Edited', data: {}, expectedVersion: 0 }),
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toEqual({ code: 'READ_ONLY', message: 'this stream browser is read-only: start it with `scribe ui --allow-append` to append' });
    const types: string[] = [];
    for await (const event of store.readStream('doc-1')) types.push(event.type);
    expect(types).toEqual(['Created']);
  });

  it('with --allow-append: appends JSON only, and answers bad input with the store\'s own codes', async () => {
    const form = await ask(`${urlOf(appending)}api/append`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'stream=doc-1&type=Edited' });
    expect(form.status).toBe(400);
    const noType = await ask(`${urlOf(appending)}api/append`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: 'doc-1', data: {} }) });
    expect(noType.status).toBe(400);
    expect(JSON.parse(noType.body).error.code).toBe('INVALID_EVENT');
    const stale = await ask(`${urlOf(appending)}api/append`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: 'doc-1', type: 'Edited', data: {}, expectedVersion: 'no_stream' }) });
    expect(stale.status).toBe(409);
    expect(JSON.parse(stale.body).error.code).toBe('WRONG_EXPECTED_VERSION');
    const ok = await ask(`${urlOf(appending)}api/append`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: 'doc-1', type: 'Edited', data: { title: 'ok' }, expectedVersion: 0 }) });
    expect(ok.status, ok.body).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ streamId: 'doc-1', version: 1 });
    const types: string[] = [];
    for await (const event of store.readStream('doc-1')) types.push(event.type);
    expect(types).toEqual(['Created', 'Edited']);
  });

  it('answers unknown paths and bad query values with a code', async () => {
    const missing = await ask(`${urlOf(readOnly)}api/nothing`);
    expect(missing.status).toBe(404);
    const badMax = await ask(`${urlOf(readOnly)}api/events?stream=doc-1&max=lots`);
    expect(badMax.status).toBe(400);
    expect(JSON.parse(badMax.body).error.code).toBe('INVALID_ARGUMENT');
    const noStream = await ask(`${urlOf(readOnly)}api/events?stream=nobody`);
    expect(noStream.status).toBe(404);
    expect(JSON.parse(noStream.body).error.code).toBe('STREAM_NOT_FOUND');
  });
});
