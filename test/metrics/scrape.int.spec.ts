// End to end on a real broker: appends at a local and a remote owner, a subscription, Kafka
// statistics; then /metrics is scraped over HTTP as Prometheus would, and /health answered as
// a Kubernetes readiness probe would read it (200 ready, 503 not).
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Server } from 'node:http';
import { EventStore, type KafkaEventStore, type StoreHealth, type Subscription } from '../../src/index.js';
import { serveMetrics, serverUrl } from '../../src/metrics/index.js';
import { owningAll } from '../support/ownership.js';

const brokers = inject('brokers');

/** Samples of the text exposition: `name{labels} value` lines. */
function samplesOf(text: string, name: string, labels: Record<string, string> = {}): number[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); ) {
    if (Date.now() > deadline) throw new Error('not within the bound');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('metrics and health over HTTP', () => {
  const name = `metrics-${randomUUID().slice(0, 8)}`;
  let owner: KafkaEventStore;
  let client: KafkaEventStore;
  let ownerServer: Server;
  let clientServer: Server;
  let subscription: Subscription | undefined;

  beforeAll(async () => {
    owner = await EventStore.connect({ brokers, store: name, partitions: 2, dataDir: `.scribe/test/${name}-owner`, kafkaStatisticsIntervalMs: 1_000 });
    await owningAll(owner);
    client = await EventStore.connect({ brokers, store: name, writer: false, dataDir: `.scribe/test/${name}-client` });
    // One registry per store here (two "processes" in one test); in a service, the default one.
    ownerServer = await serveMetrics(owner, { port: 0, host: '127.0.0.1', registry: new Registry() });
    clientServer = await serveMetrics(client, { port: 0, host: '127.0.0.1', registry: new Registry() });
  });
  afterAll(async () => {
    await subscription?.stop().catch(() => undefined);
    await new Promise((r) => ownerServer?.close(r));
    await new Promise((r) => clientServer?.close(r));
    await Promise.all([client?.close(), owner?.close()]);
  });

  const scrape = async (server: Server) => {
    const response = await fetch(`${serverUrl(server)}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  it('counts and times appends, transactions, conflicts and remote requests, as scraped', async () => {
    for (let i = 0; i < 5; i++) await owner.append(`local-${i}`, [{ type: 'A', data: { i } }, { type: 'B', data: { i } }], { expectedVersion: 'no_stream' });
    await expect(owner.append('local-0', [{ type: 'C', data: {} }], { expectedVersion: 'no_stream' })).rejects.toMatchObject({ code: 'WRONG_EXPECTED_VERSION' });
    for (let i = 0; i < 3; i++) await client.append(`remote-${i}`, [{ type: 'A', data: { i } }], { expectedVersion: 'no_stream' });

    const atOwner = await scrape(ownerServer);
    const ok = { store: name, operation: 'append', owner: 'local', outcome: 'ok' };
    expect(samplesOf(atOwner, 'scribe_appends_total', ok)).toEqual([5]);
    expect(samplesOf(atOwner, 'scribe_append_duration_seconds_count', ok)).toEqual([5]);
    expect(samplesOf(atOwner, 'scribe_append_duration_seconds_sum', ok)[0]).toBeGreaterThan(0);
    expect(samplesOf(atOwner, 'scribe_appends_total', { ...ok, outcome: 'WRONG_EXPECTED_VERSION' })).toEqual([1]);
    expect(samplesOf(atOwner, 'scribe_conflicts_total', { store: name })).toEqual([1]);
    // 5 local appends of 2 events and 3 remote ones of 1, all committed by this process's writers.
    expect(samplesOf(atOwner, 'scribe_events_committed_total', { store: name })).toEqual([13]);
    const committed = samplesOf(atOwner, 'scribe_transactions_total', { store: name, outcome: 'committed' })[0]!;
    expect(committed).toBeGreaterThanOrEqual(2);
    expect(samplesOf(atOwner, 'scribe_appends_per_transaction_count', { store: name })).toEqual([committed]);
    expect(samplesOf(atOwner, 'scribe_served_request_duration_seconds_count', { store: name, kind: 'append', outcome: 'ok' })).toEqual([3]);
    expect(samplesOf(atOwner, 'scribe_owned_partitions', { store: name })).toEqual([2]);
    expect(samplesOf(atOwner, 'scribe_writer_state', { store: name, state: 'ready' })).toEqual([1, 1]);

    const atClient = await scrape(clientServer);
    expect(samplesOf(atClient, 'scribe_appends_total', { store: name, owner: 'remote', outcome: 'ok' })).toEqual([3]);
    expect(samplesOf(atClient, 'scribe_remote_request_duration_seconds_count', { store: name, kind: 'append', outcome: 'ok' })).toEqual([3]);
    expect(samplesOf(atClient, 'scribe_owned_partitions', { store: name })).toEqual([0]);
  });

  it("shows a subscription's lag and the Kafka clients' statistics", async () => {
    subscription = await owner.subscribe({ from: 'start', name: 'lagging' }, () => new Promise((r) => setTimeout(r, 5)));
    await eventually(async () => samplesOf(await scrape(ownerServer), 'scribe_subscription_lag_events', { store: name, subscription: `${name}.events.subscription.lagging` }).length > 0);
    await eventually(async () => samplesOf(await scrape(ownerServer), 'scribe_kafka_broker_rtt_average_seconds', { store: name, role: 'producer' }).length > 0);
    const text = await scrape(ownerServer);
    expect(samplesOf(text, 'scribe_kafka_queued_messages', { store: name }).every((v) => v >= 0)).toBe(true);
    expect(samplesOf(text, 'scribe_kafka_broker_requests_in_flight', { store: name }).length).toBeGreaterThan(0);
    // A consumer reports how far it is from its partitions' ends.
    await eventually(async () => samplesOf(await scrape(ownerServer), 'scribe_kafka_consumer_lag_records', { store: name, role: 'consumer' }).length > 0);
  });

  it('answers /health as a readiness probe reads it: 200 with the writers and the lag, 503 once closed', async () => {
    const response = await fetch(`${serverUrl(ownerServer)}/health`);
    expect(response.status).toBe(200);
    const health = (await response.json()) as StoreHealth;
    expect(health).toMatchObject({ ready: true, reasons: [], writer: true, ownedPartitions: [0, 1] });
    expect(health.writers.map((w) => [w.partition, w.ready])).toEqual([[0, true], [1, true]]);
    expect(health.lag.length).toBeGreaterThan(0);
    expect(health.lag.every((l) => l.subscription === `${name}.events.subscription.lagging` && l.events >= 0)).toBe(true);

    const clientHealth = (await (await fetch(`${serverUrl(clientServer)}/health`)).json()) as StoreHealth;
    expect(clientHealth).toMatchObject({ ready: true, writer: false, ownedPartitions: [], writers: [] });

    await client.close();
    const closed = await fetch(`${serverUrl(clientServer)}/health`);
    expect(closed.status).toBe(503);
    expect(((await closed.json()) as StoreHealth).reasons).toEqual(['the store is closed']);
    expect((await fetch(`${serverUrl(clientServer)}/nothing`)).status).toBe(404);
  });
});
