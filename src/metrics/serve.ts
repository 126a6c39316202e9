// The one-liner that exposes a store to Prometheus and Kubernetes: GET /metrics (the registry,
// in Prometheus's text format) and GET /health (`store.health()` as JSON: 200 when ready, 503 not).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import type { Registry } from 'prom-client';
import type { StoreHealth } from '../contract/event-store.js';
import { storeMetrics, type MeteredStore } from './store-metrics.js';

export interface ServeMetricsOptions {
  /** TCP port (0: any free port; read it from `server.address()`). */
  readonly port: number;
  /** Interface to listen on (default all: a scraper and a kubelet reach the pod's address). */
  readonly host?: string;
  /** The registry to serve and record in (default: prom-client's global registry, with the application's own metrics). */
  readonly registry?: Registry;
}

/** A server for `/metrics` and `/health`; closing it stops recording the store's metrics. */
export async function serveMetrics(store: MeteredStore & { health(): Promise<StoreHealth> }, options: ServeMetricsOptions): Promise<Server> {
  const registry = options.registry ?? client.register;
  const metrics = storeMetrics(store, { registry });
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
      );
    } else if (path === '/health') {
      store.health().then(
        (health) => response.writeHead(health.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(health)}\n`),
        (error: unknown) => response.writeHead(503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ ready: false, reasons: [String(error)] })}\n`),
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics or /health\n');
    }
  });
  server.on('close', () => metrics.stop());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The server's URL, e.g. for logs: `http://127.0.0.1:9464`. */
export function serverUrl(server: Server): string {
  const { address, port, family } = server.address() as AddressInfo;
  const host = address === '::' || address === '0.0.0.0' ? '127.0.0.1' : family === 'IPv6' ? `[${address}]` : address;
  return `http://${host}:${port}`;
}
