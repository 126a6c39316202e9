// `scribe/opentelemetry`: traces of appends, commands, remote requests and transactions with
// @opentelemetry/api (an optional peer dependency: `npm install @opentelemetry/api`).
export { openTelemetryTracing, traceContextOf, traceLinkOf, tracerName, type OpenTelemetryTracingOptions } from './open-telemetry.js';
