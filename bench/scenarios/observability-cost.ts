// observability-cost: what metrics and traces cost an owner process (issue 20's target: >= 0.95).
// append-uncontended's workload (one owner, appends of one event to distinct streams, no
// conflicts) at 64 in flight, on two fresh stores in the same process: one with nothing
// listening ("off"), one with Prometheus metrics recorded (scribe/metrics, Kafka statistics
// every 5 s, a scrape every 15 s) and OpenTelemetry tracing on (scribe/opentelemetry, the SDK's
// BatchSpanProcessor feeding an exporter that drops the spans). Measured in blocks, off and on
// alternating (ABBA, so drift in the machine or the broker falls on both alike).
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { Registry } from 'prom-client';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { KafkaEventStore } from '../../src/index.js';
import { storeMetrics } from '../../src/metrics/index.js';
import { openTelemetryTracing } from '../../src/tracing/index.js';
import { positiveInteger, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { latencySummary, medianFormatter, perSecond, round } from '../stats.js';
import { payloadOf, withFreshStore } from '../store-fixture.js';

export interface ObservabilityCostOptions {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly eventSize: number;
  readonly streams: number;
  /** Appends per block. */
  readonly appends: number;
  readonly concurrency: number;
  /** Off-on pairs per repetition, in ABBA order. */
  readonly pairs: number;
}

const eventType = 'BenchAppended';
const streamId = (index: number) => `obs-${index}`;
const kafkaStatisticsIntervalMs = 5_000;
const scrapeEveryMs = 15_000;

/** The exporter of the "on" case: spans are made, processed and batched as in production, then dropped. */
class DroppingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface Block {
  readonly appends: number;
  readonly elapsedMs: number;
  readonly latenciesMs: Float64Array;
}

/** One block: `appends` appends by `concurrency` workers, each over its own streams. */
async function block(store: KafkaEventStore, o: ObservabilityCostOptions, versions: Int32Array): Promise<Block> {
  const events = [{ type: eventType, data: payloadOf(o.eventSize) }];
  const latenciesMs = new Float64Array(o.appends);
  let issued = 0;
  const worker = async (w: number) => {
    const mine = Math.floor((o.streams - 1 - w) / o.concurrency) + 1;
    for (let j = 0; issued < o.appends; j++) {
      const k = issued++;
      const s = w + o.concurrency * (j % mine);
      const began = performance.now();
      const result = await store.append(streamId(s), events, { expectedVersion: versions[s]! });
      latenciesMs[k] = performance.now() - began;
      versions[s] = result.nextExpectedVersion;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  return { appends: o.appends, elapsedMs: performance.now() - started, latenciesMs };
}

/** Every partition's writer commits one append before the clock starts. */
async function prime(store: KafkaEventStore, o: ObservabilityCostOptions, versions: Int32Array): Promise<void> {
  const firsts = new Map<number, number>();
  for (let s = 0; s < o.streams && firsts.size < store.partitions; s++) if (!firsts.has(store.partitionOf(streamId(s)))) firsts.set(store.partitionOf(streamId(s)), s);
  await Promise.all(
    [...firsts.values()].map(async (s) => {
      versions[s] = (await store.append(streamId(s), [{ type: eventType, data: payloadOf(o.eventSize) }], { expectedVersion: 'no_stream' })).nextExpectedVersion;
    }),
  );
}

async function run(o: ObservabilityCostOptions, context: BenchContext): Promise<RepetitionResult> {
  const spec = { partitions: o.partitions, replicationFactor: o.replicationFactor, writer: true, log: context.log };
  const exporter = new DroppingExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const registry = new Registry();
  const blocks: { off: Block[]; on: Block[] } = { off: [], on: [] };
  let scrapes = 0;
  let scrapedAppends = 0;
  await withFreshStore(context.brokers, { ...spec, prefix: 'bench-obs-off' }, async ({ store: off }) =>
    withFreshStore(
      context.brokers,
      { ...spec, prefix: 'bench-obs-on', connect: { tracing: openTelemetryTracing({ tracerProvider: provider }), kafkaStatisticsIntervalMs } },
      async ({ store: on }) => {
        const metrics = storeMetrics(on, { registry });
        const scraper = setInterval(() => void registry.metrics().then(() => scrapes++), scrapeEveryMs);
        try {
          const versions = { off: new Int32Array(o.streams).fill(-1), on: new Int32Array(o.streams).fill(-1) };
          await prime(off, o, versions.off);
          await prime(on, o, versions.on);
          // ABBA per pair; the pair's first case alternates with the repetition.
          const first: 'off' | 'on' = context.repetition % 2 === 1 ? 'off' : 'on';
          const second: 'off' | 'on' = first === 'off' ? 'on' : 'off';
          for (let p = 0; p < o.pairs; p++) {
            for (const mode of p % 2 === 0 ? [first, second] : [second, first]) {
              const measured = await block(mode === 'off' ? off : on, o, versions[mode]);
              blocks[mode].push(measured);
              context.log(`pair ${p + 1}/${o.pairs} ${mode}: ${perSecond(measured.appends, measured.elapsedMs)} appends/s`);
            }
          }
          const text = await registry.metrics();
          scrapes++;
          const line = text.split('\n').find((l) => l.startsWith('scribe_appends_total{') && l.includes('outcome="ok"'));
          scrapedAppends = line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
        } finally {
          clearInterval(scraper);
          metrics.stop();
        }
      },
    ),
  );
  await provider.forceFlush();
  await provider.shutdown();

  const figures: Record<string, number> = {};
  for (const mode of ['off', 'on'] as const) {
    const appends = blocks[mode].reduce((n, b) => n + b.appends, 0);
    const elapsedMs = blocks[mode].reduce((n, b) => n + b.elapsedMs, 0);
    const latency = latencySummary(blocks[mode].flatMap((b) => Array.from(b.latenciesMs)));
    figures[`${mode}.eventsPerSec`] = perSecond(appends, elapsedMs);
    figures[`${mode}.p50Ms`] = latency.p50Ms;
    figures[`${mode}.p99Ms`] = latency.p99Ms;
  }
  figures.onOverOffRatio = round(figures['on.eventsPerSec']! / figures['off.eventsPerSec']!, 3);
  return {
    figures,
    details: {
      blocks: Object.fromEntries((['off', 'on'] as const).map((mode) => [mode, blocks[mode].map((b) => ({ appends: b.appends, elapsedMs: round(b.elapsedMs, 1), perSec: perSecond(b.appends, b.elapsedMs) }))])),
      // Checks that the "on" case did the work it claims: spans exported, appends counted.
      spansExported: exporter.exported,
      scrapes,
      appendsCountedByMetrics: scrapedAppends,
    },
  };
}

export const observabilityCost: Scenario<ObservabilityCostOptions> = {
  name: 'observability-cost',
  description: 'append-uncontended at 64 in flight with metrics and tracing on (spans dropped by the exporter) against off, alternating in the same run',

  defineOptions(command: Command) {
    defineShared(command, ['partitions', 'replicationFactor', 'eventSize', 'streams', 'appends'], { appends: { description: 'appends (one event each) per block', defaultValue: '10000' } })
      .option('--concurrency <n>', 'appends in flight', '64')
      .option('--pairs <n>', 'off/on pairs of blocks per repetition (ABBA order)', '2');
  },

  parseOptions(raw) {
    const o: ObservabilityCostOptions = {
      ...parseShared(raw, ['partitions', 'replicationFactor', 'eventSize', 'streams', 'appends']),
      concurrency: positiveInteger('concurrency', raw.concurrency),
      pairs: positiveInteger('pairs', raw.pairs),
    };
    if (o.concurrency > o.streams) throw new Error(`--concurrency ${o.concurrency} needs at least as many --streams (${o.streams}): each worker has its own streams`);
    return o;
  },

  run,

  notes(o) {
    return [
      `Two fresh stores (${o.partitions} partitions, RF ${o.replicationFactor}) in the bench process, each owning all its partitions; appends of one ${o.eventSize}-byte event to ${o.streams} streams, ${o.concurrency} in flight, each worker on its own streams with the exact expected version (no conflicts), as append-uncontended.`,
      `"off": nothing listens (no on, no log line per append, no tracing). "on": storeMetrics on a prom-client Registry, kafkaStatisticsIntervalMs ${kafkaStatisticsIntervalMs} (librdkafka statistics of every client), a scrape every ${scrapeEveryMs / 1000} s, openTelemetryTracing on an SDK BasicTracerProvider with a BatchSpanProcessor whose exporter drops the spans: every append, transaction and request span is made and processed.`,
      `Per repetition ${o.pairs} pair(s) of ${o.appends}-append blocks in ABBA order, the first case alternating with the repetition; a case's rate is its appends over its blocks' time. onOverOffRatio = on / off of the same repetition; the harness reports medians over the repetitions (run with --repeat 3 or more). Issue 20's target: >= 0.95.`,
      'details.spansExported and details.appendsCountedByMetrics show the "on" case did its work. Figures compare only within one run; the machine is shared.',
    ];
  },

  summarize(medians) {
    const show = medianFormatter(medians);
    const ratio = medians.onOverOffRatio;
    return [
      `  off: ${show('off.eventsPerSec', ' events/s')}, p50 ${show('off.p50Ms', ' ms')}, p99 ${show('off.p99Ms', ' ms')}`,
      `  on (metrics + tracing): ${show('on.eventsPerSec', ' events/s')}, p50 ${show('on.p50Ms', ' ms')}, p99 ${show('on.p99Ms', ' ms')}`,
      `  issue 20 target (on / off >= 0.95): ${ratio === undefined ? '-' : `${ratio} -> ${ratio >= 0.95 ? 'met' : 'MISSED'}`}`,
    ];
  },
};
