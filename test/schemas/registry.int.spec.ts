// Event versioning against a real broker and a real schema registry (Apicurio, started here
// from Maven Central): schemas registered at connect, incompatible changes refused there,
// events in the Confluent wire format that a registry-aware consumer decodes without Scribe,
// validation before anything is written, and upcasting on every read path.
import { randomUUID } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { depositedV1 as catalogV1, depositedV3 as catalogV3 } from '../../examples/deposited-versions.js';
import { EventSchemas, EventStore, IncompatibleSchemaError, InvalidEventError, StreamNotFoundError, UnknownEventError, type Decider, type RecordedEvent } from '../../src/index.js';
import { KafkaConsumer } from '../../src/kafka/index.js';
import { LocalSchemaRegistry } from '../../src/local-kafka/index.js';

const brokers = inject('brokers');

async function readAll(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

describe('event versioning with a schema registry', () => {
  let registry: LocalSchemaRegistry;
  const stores: EventStore[] = [];
  const connect = async (name: string, schemas: EventSchemas, more: Partial<Parameters<typeof EventStore.connect>[0]> = {}) => {
    const store = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}/${randomUUID()}`, schemas, schemaRegistry: { url: registry.url }, ...more });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    registry = await LocalSchemaRegistry.start({ log: (line) => process.stderr.write(`[registry] ${line}\n`) });
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await registry?.stop();
  });

  it('events written by v1 code are read by v3 code through two upcasters: readStream, subscribe and load', async () => {
    const name = `versions-${randomUUID().slice(0, 8)}`;
    const old = await connect(name, catalogV1());
    await old.append('acc', [{ type: 'Deposited', data: { amount: 1.25 } }], { expectedVersion: 'no_stream' });
    await old.close();

    const current = await connect(name, catalogV3());
    await current.append('acc', [{ type: 'Deposited', data: { amount: 2, currency: 'USD', cents: 200 } }], { expectedVersion: 0 });
    const read = await readAll(current, 'acc');
    expect(read.map((e) => [e.schemaVersion, e.data])).toEqual([
      [3, { currency: 'EUR', amount: 1.25, cents: 125 }],
      [3, { amount: 2, currency: 'USD', cents: 200 }],
    ]);

    const seen: unknown[] = [];
    const subscription = await current.subscribe({ from: 'start' }, async (e) => void seen.push(e.data));
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 50));
    await subscription.stop();
    expect(seen).toEqual(read.map((e) => e.data));

    const cents: Decider<number, never, { type: 'Deposited'; data: { cents: number } }> = {
      initialState: () => 0,
      evolve: (total, e) => total + e.data.cents,
      decide: () => [],
    };
    expect((await current.load(cents, 'acc')).state).toBe(325);

    // The old code meets a version it does not know: by default a typed error, or skipped.
    const stale = await connect(name, catalogV1(), { schemaRegistry: undefined });
    await expect(readAll(stale, 'acc')).rejects.toBeInstanceOf(UnknownEventError);
    const tolerant = await connect(name, catalogV1(), { schemaRegistry: undefined, onUnknownEvent: 'skip' });
    expect((await readAll(tolerant, 'acc')).map((e) => e.data)).toEqual([{ amount: 1.25 }]);
  });

  it('refuses an incompatible schema change at connect, before anything is written', async () => {
    const name = `incompatible-${randomUUID().slice(0, 8)}`;
    await connect(name, catalogV1());
    const breaking = catalogV1().define('Deposited', 2, { type: 'object', properties: { amount: { type: 'string' } }, required: ['amount'] }, { upcast: (data) => ({ amount: String((data as { amount: number }).amount) }) });
    const refused = await EventStore.connect({ brokers, store: name, partitions: 1, dataDir: `.scribe/test/${name}/breaking`, schemas: breaking, schemaRegistry: { url: registry.url } }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(IncompatibleSchemaError);
    expect(refused).toMatchObject({ code: 'INCOMPATIBLE_SCHEMA', subject: `${name}.events-Deposited`, schemaVersion: 2 });
  });

  it('writes the Confluent wire format: a consumer that knows nothing of Scribe decodes the event with the registry', async () => {
    const name = `wire-${randomUUID().slice(0, 8)}`;
    const store = await connect(name, catalogV3());
    await store.append('acc', [{ type: 'Deposited', data: { amount: 7, currency: 'EUR', cents: 700 } }], { expectedVersion: 'no_stream' });

    const consumer = await KafkaConsumer.connect({ brokers, isolation: 'read_committed' });
    consumer.assign([{ topic: `${name}.events`, partition: 0, offset: 0 }]);
    let value: Buffer | undefined;
    while (!value) for (const m of await consumer.consume(10, 200)) value = m.value ?? undefined;
    await consumer.disconnect();
    expect(value[0]).toBe(0); // the magic byte
    expect(await new SchemaRegistry({ host: registry.url }).decode(value)).toEqual({ amount: 7, currency: 'EUR', cents: 700 });
  });

  it('validates events against the latest schema: a bad event is refused with the field named, and nothing is written', async () => {
    const name = `invalid-${randomUUID().slice(0, 8)}`;
    const store = await connect(name, catalogV3());
    const refused = await store
      .append('acc', [{ type: 'Deposited', data: { amount: 1 } }, { type: 'Deposited', data: { amount: 2, cents: 2.5 } }], { expectedVersion: 'no_stream' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidEventError);
    expect((refused as Error).message).toMatch(/event 1: data\.cents: must be integer/);
    await expect(store.append('acc', [{ type: 'Withdrawn', data: {} }], { expectedVersion: 'no_stream' })).rejects.toThrow(/type "Withdrawn" is not defined/);
    await expect(readAll(store, 'acc')).rejects.toBeInstanceOf(StreamNotFoundError);
  });
});
