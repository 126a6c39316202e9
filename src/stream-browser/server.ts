// The stream browser's HTTP server (node:http): the page, a small JSON API over the public
// store API, and the live tail as server-sent events. Read-only unless started with
// `allowAppend`; answers only requests addressed to the host it listens on (DNS rebinding).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { InvalidArgumentError, ScribeError } from '../errors.js';
import type { KafkaAdmin } from '../kafka/index.js';
import type { StreamCatalog } from '../operator/stream-catalog.js';
import type { KafkaEventStore } from '../store/event-store.js';
import { BrowserRequestError, routes, type BrowserContext } from './routes.js';
import { pageHtml, pageScript, pageStyle } from './page.js';

export interface StreamBrowserOptions {
  readonly store: KafkaEventStore;
  readonly admin: KafkaAdmin;
  readonly catalog: StreamCatalog;
  /** Default 127.0.0.1: the browser shows every event's data to whoever reaches it. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  readonly allowAppend?: boolean;
}

export interface StreamBrowser {
  readonly url: string;
  close(): Promise<void>;
}

const loopbacks = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const statusOfCode: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  INVALID_EVENT: 400,
  READ_ONLY: 403,
  STREAM_NOT_FOUND: 404,
  NOT_FOUND: 404,
  WRONG_EXPECTED_VERSION: 409,
  EVENT_ID_CONFLICT: 409,
  TIMEOUT: 504,
  APPEND_OUTCOME_UNKNOWN: 504,
};

export async function startStreamBrowser(options: StreamBrowserOptions): Promise<StreamBrowser> {
  const host = options.host ?? '127.0.0.1';
  const context: BrowserContext = { store: options.store, admin: options.admin, catalog: options.catalog, allowAppend: options.allowAppend === true };
  const api = routes(context);
  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => fail(response, error));
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const allowedHosts = loopbacks.has(host) ? new Set(['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port}`)) : undefined;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (allowedHosts && !allowedHosts.has(request.headers.host ?? '')) throw new BrowserRequestError('FORBIDDEN_HOST', `this server answers requests to ${shownHost}:${port} only`);
    const url = new URL(request.url ?? '/', `http://${shownHost}:${port}`);
    const security = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };
    if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; img-src 'self' data:", ...security });
      return void response.end(pageHtml);
    }
    if (request.method === 'GET' && url.pathname === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...security });
      return void response.end(pageScript);
    }
    if (request.method === 'GET' && url.pathname === '/app.css') {
      response.writeHead(200, { 'content-type': 'text/css; charset=utf-8', ...security });
      return void response.end(pageStyle);
    }
    const route = api.find((r) => r.method === request.method && r.path === url.pathname);
    if (!route) throw new BrowserRequestError('NOT_FOUND', `no ${request.method ?? ''} ${url.pathname}`);
    if (route.stream) return route.stream(url, request, response);
    let body: unknown;
    if (request.method === 'POST') {
      // A JSON body cannot come from a plain HTML form: another site's page cannot post here.
      if (!(request.headers['content-type'] ?? '').startsWith('application/json')) throw new BrowserRequestError('INVALID_ARGUMENT', 'send application/json');
      body = await readJson(request);
    }
    const result = await route.answer!(url, body);
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...security });
    response.end(JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  }

  return {
    url: `http://${shownHost}:${port}/`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Live tails keep their connections open: end them, or close waits forever.
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function fail(response: ServerResponse, error: unknown): void {
  const code = error instanceof ScribeError || error instanceof BrowserRequestError ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  if (response.headersSent) return void response.end();
  response.writeHead(code === 'FORBIDDEN_HOST' ? 421 : (statusOfCode[code] ?? 500), { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify({ error: { code, message } }));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 1_048_576) throw new InvalidArgumentError('body', 'is larger than 1 MiB');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (error) {
    throw new InvalidArgumentError('body', `is not JSON: ${(error as Error).message}`);
  }
}
