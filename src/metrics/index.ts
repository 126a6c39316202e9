// `scribe/metrics`: a store's Prometheus metrics (prom-client, an optional peer dependency:
// `npm install prom-client`) and the HTTP endpoint for /metrics and /health.
export { storeMetrics, type MeteredStore, type StoreMetrics, type StoreMetricsOptions } from './store-metrics.js';
export { serveMetrics, serverUrl, type ServeMetricsOptions } from './serve.js';
