// codec: what event schemas cost. The same appends and reads with plain JSON, with JSON
// Schema validation, and with JSON Schema plus a schema registry (Confluent wire format),
// each on a fresh store in the same repetition; and the cost of upcasting on read: events
// written as version 1, read through two upcasters as version 3, against reading them as
// they were written.
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { depositedV1 as catalogV1, depositedV3 as catalogV3 } from '../../examples/deposited-versions.js';
import { EventStore, type ConnectOptions } from '../../src/index.js';
import { LocalSchemaRegistry } from '../../src/local-kafka/index.js';
import { runWindowed } from '../load.js';
import { positiveInteger, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { perSecond, medianFormatter, round } from '../stats.js';
import { benchDataDir, randomSuffix, withFreshStore } from '../store-fixture.js';

export interface CodecOptions {
  readonly appends: number;
  readonly streams: number;
  readonly concurrency: number;
  readonly partitions: number;
  readonly upcastEvents: number;
}

const dataOf = (i: number) => ({ account: `acc-${i}`, amount: i % 1000, note: 'x'.repeat(180) });

/** Appends `appends` one-event appends over `streams` streams, `concurrency` at a time; then reads every stream back. */
async function appendAndRead(store: EventStore, o: CodecOptions) {
  const versions = new Int32Array(o.streams).fill(-1);
  const busy = new Set<number>();
  // At most one append per stream in flight: none conflicts.
  const append = await runWindowed({ total: o.appends, window: Math.min(o.concurrency, o.streams) }, async (i) => {
    let s = i % o.streams;
    while (busy.has(s)) s = (s + 1) % o.streams;
    busy.add(s);
    try {
      const result = await store.append(`s-${s}`, [{ type: 'Deposited', data: dataOf(i) }], { expectedVersion: versions[s]! });
      versions[s] = result.nextExpectedVersion;
    } finally {
      busy.delete(s);
    }
  });
  const read = await readAll(store, o.streams);
  if (read.events !== o.appends) throw new Error(`read ${read.events} events, appended ${o.appends}`);
  return { appendPerSec: perSecond(o.appends, append.elapsedMs), readPerSec: perSecond(read.events, read.elapsedMs) };
}

async function readAll(store: EventStore, streams: number) {
  const began = performance.now();
  let events = 0;
  for (let s = 0; s < streams; s++) for await (const _ of store.readStream(`s-${s}`)) events++;
  return { events, elapsedMs: performance.now() - began };
}

async function run(o: CodecOptions, context: BenchContext): Promise<RepetitionResult> {
  const figures: Record<string, number> = {};
  const registry = await LocalSchemaRegistry.start({ log: context.log });
  try {
    const cases: [string, Partial<ConnectOptions>][] = [
      ['json', {}],
      ['jsonSchema', { schemas: catalogV3() }],
      ['jsonSchemaRegistry', { schemas: catalogV3(), schemaRegistry: { url: registry.url } }],
    ];
    // Alternate the order per repetition, so that no case always meets a warmer broker.
    if (context.repetition % 2 === 0) cases.reverse();
    for (const [name, connect] of cases) {
      await withFreshStore(context.brokers, { prefix: `bench-codec`, partitions: o.partitions, replicationFactor: 1, writer: true, log: context.log, connect }, async ({ store }) => {
        const measured = await appendAndRead(store, o);
        figures[`${name}.appendPerSec`] = measured.appendPerSec;
        figures[`${name}.readPerSec`] = measured.readPerSec;
        context.log(`${name}: ${measured.appendPerSec} appends/s, ${measured.readPerSec} events/s read`);
      });
    }
    for (const name of ['jsonSchema', 'jsonSchemaRegistry']) {
      figures[`${name}.appendOverJsonRatio`] = round(figures[`${name}.appendPerSec`]! / figures['json.appendPerSec']!, 2);
      figures[`${name}.readOverJsonRatio`] = round(figures[`${name}.readPerSec`]! / figures['json.readPerSec']!, 2);
    }

    // Upcasting: written by v1 code; read by two reader processes alike but for their catalogs:
    // v1 (as written) and v3 (two upcasters per event), each after its index caught up.
    const name = `bench-upcast-${randomSuffix()}`;
    const upcastStreams = 10;
    await withFreshStore(context.brokers, { prefix: 'bench-upcast', name, partitions: o.partitions, replicationFactor: 1, writer: true, log: context.log, connect: { schemas: catalogV1() } }, async ({ store }) => {
      await appendAndRead(store, { ...o, appends: o.upcastEvents, streams: upcastStreams });
      const readers = await Promise.all(
        [catalogV1(), catalogV3()].map((schemas) => EventStore.connect({ brokers: context.brokers, store: name, writer: false, schemas, dataDir: benchDataDir() })),
      );
      try {
        for (const reader of readers) await readAll(reader, upcastStreams); // the reader's index catches up first
        const [plain, upcast] = [await readAll(readers[0]!, upcastStreams), await readAll(readers[1]!, upcastStreams)];
        figures['upcast.readAsWrittenPerSec'] = perSecond(plain.events, plain.elapsedMs);
        figures['upcast.readThroughTwoUpcastersPerSec'] = perSecond(upcast.events, upcast.elapsedMs);
        figures['upcast.costPerEventUs'] = round(((upcast.elapsedMs - plain.elapsedMs) * 1000) / upcast.events, 2);
        context.log(`upcasting: ${figures['upcast.readThroughTwoUpcastersPerSec']} events/s read through two upcasters, ${figures['upcast.readAsWrittenPerSec']} as written`);
      } finally {
        await Promise.all(readers.map((reader) => reader.close()));
      }
    });
    // The upcasters alone, without the store: their cost per event in this process.
    const catalog = catalogV3();
    const began = performance.now();
    for (let i = 0; i < 100_000; i++) catalog.upcast({ type: 'Deposited', schemaVersion: 1, data: dataOf(i) }, 'fail');
    figures['upcast.twoUpcastersAloneUs'] = round(((performance.now() - began) * 1000) / 100_000, 3);
  } finally {
    await registry.stop();
  }
  return { figures };
}

export const codec: Scenario<CodecOptions> = {
  name: 'codec',
  description: 'append and read throughput with plain JSON, JSON Schema, and JSON Schema + schema registry; the cost of upcasting on read',

  defineOptions(command: Command) {
    defineShared(command, ['appends', 'streams', 'partitions'], {
      appends: { description: 'one-event appends per case' },
      streams: { defaultValue: '200' },
      partitions: { description: 'partitions of each fresh store' },
    })
      .option('--concurrency <n>', 'appends in flight', '64')
      .option('--upcast-events <n>', 'events written as version 1 and read as version 3', '4000');
  },

  parseOptions(raw) {
    return {
      ...parseShared(raw, ['appends', 'streams', 'partitions']),
      concurrency: positiveInteger('concurrency', raw.concurrency),
      upcastEvents: positiveInteger('upcast-events', raw.upcastEvents),
    };
  },

  run,

  versions() {
    return { registry: 'Apicurio Registry 3.0.9 (in-memory, Confluent API /apis/ccompat/v7)' };
  },

  notes(o) {
    return [
      `Per case a fresh ${o.partitions}-partition store owned by this process: ${o.appends} appends of one event (about 230 bytes of JSON data) over ${o.streams} streams, ${o.concurrency} in flight with exact expected versions; then every stream read back with readStream. Cases: json (no schemas), jsonSchema (Ajv validation against the latest of three versions), jsonSchemaRegistry (the same, registered in Apicurio at connect, data in the Confluent wire format).`,
      `Upcasting: ${o.upcastEvents} events over 10 streams written by a store with only version 1 of the type, then read by two non-writer stores in this process, alike but for their catalogs: version 1 only (as written) and versions 1-3 (two upcasters per event); each reads once to catch its index up, then the timed read. costPerEventUs = (upcast read time - plain read time) / events. twoUpcastersAloneUs: the catalog's upcast() alone, 100,000 events.`,
      'The registry is started for each repetition from Maven Central\'s Apicurio assembly (src/local-kafka/schema-registry.ts).',
    ];
  },

  summarize(medians) {
    const show = medianFormatter(medians);
    return [
      `  json:                 ${show('json.appendPerSec', ' appends/s')}, ${show('json.readPerSec', ' events/s read')}`,
      `  JSON Schema:          ${show('jsonSchema.appendPerSec', ' appends/s')} (${show('jsonSchema.appendOverJsonRatio')} of json), ${show('jsonSchema.readPerSec', ' events/s read')} (${show('jsonSchema.readOverJsonRatio')})`,
      `  JSON Schema+registry: ${show('jsonSchemaRegistry.appendPerSec', ' appends/s')} (${show('jsonSchemaRegistry.appendOverJsonRatio')} of json), ${show('jsonSchemaRegistry.readPerSec', ' events/s read')} (${show('jsonSchemaRegistry.readOverJsonRatio')})`,
      `  upcasting v1 -> v3 on read: ${show('upcast.readThroughTwoUpcastersPerSec', ' events/s')} against ${show('upcast.readAsWrittenPerSec', ' events/s')} as written; ${show('upcast.costPerEventUs', ' µs')} per event in the store, ${show('upcast.twoUpcastersAloneUs', ' µs')} for the upcasters alone`,
    ];
  },
};
