// The store's typed events become Prometheus metrics: each event in, the metric values out,
// read back from the registry in Prometheus's text format. No broker.
import { describe, expect, it } from 'vitest';
import client, { Registry } from 'prom-client';
import type { StoreEvent, StoreListener } from '../../src/instrumentation/store-events.js';
import { storeMetrics } from '../../src/metrics/index.js';

/** A store as metrics see it: a name, its events, the partitions it owns. */
function fakeStore(name = 'bank', owned: number[] = []) {
  const listeners = new Set<StoreListener>();
  return {
    name,
    ownedPartitions: owned,
    observe(listener: StoreListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(...events: StoreEvent[]) {
      for (const event of events) for (const l of listeners) l({ ...event, time: Date.now() });
    },
    get listening() {
      return listeners.size;
    },
  };
}

/** The value of one sample of the exposition, by metric name and labels (in any order). */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metrics = await registry.getMetricsAsJSON();
  for (const metric of metrics) {
    for (const value of metric.values as { metricName?: string; labels: Record<string, string | number>; value: number }[]) {
      const sampleName = value.metricName ?? metric.name;
      if (sampleName !== name) continue;
      if (Object.entries(labels).every(([k, v]) => String(value.labels[k]) === v)) return value.value;
    }
  }
  return undefined;
}

const settled = (outcome: string, durationMs: number, owner: 'local' | 'remote' = 'local', events = 1): StoreEvent => ({ type: 'append-settled', streamId: 's', partition: 0, owner, outcome, events, durationMs });

describe('the metrics of a store', () => {
  it('registers nothing until asked, then in the registry given', async () => {
    // Loading scribe/metrics (above) put nothing in prom-client's global registry.
    expect(client.register.getMetricsAsArray().filter((m) => m.name.startsWith('scribe_'))).toEqual([]);
    const registry = new Registry();
    storeMetrics(fakeStore(), { registry });
    expect(await registry.metrics()).toContain('# TYPE scribe_append_duration_seconds histogram');
    expect(client.register.getMetricsAsArray().filter((m) => m.name.startsWith('scribe_'))).toEqual([]);
  });

  it('times appends in seconds by outcome and counts them, unknown outcomes apart', async () => {
    const registry = new Registry();
    const store = fakeStore();
    storeMetrics(store, { registry });
    store.emit(settled('ok', 4), settled('ok', 40), settled('WRONG_EXPECTED_VERSION', 2), settled('APPEND_OUTCOME_UNKNOWN', 30_000, 'remote'), settled('ok', 7, 'remote', 0));
    const ok = { store: 'bank', operation: 'append', owner: 'local', outcome: 'ok' };
    expect(await sample(registry, 'scribe_appends_total', ok)).toBe(2);
    expect(await sample(registry, 'scribe_append_duration_seconds_count', ok)).toBe(2);
    expect(await sample(registry, 'scribe_append_duration_seconds_sum', ok)).toBeCloseTo(0.044, 6);
    expect(await sample(registry, 'scribe_append_duration_seconds_bucket', { ...ok, le: '0.005' })).toBe(1);
    expect(await sample(registry, 'scribe_append_duration_seconds_bucket', { ...ok, le: '0.05' })).toBe(2);
    expect(await sample(registry, 'scribe_appends_total', { ...ok, outcome: 'WRONG_EXPECTED_VERSION' })).toBe(1);
    // A command settles with no events of its own: the operation says execute.
    expect(await sample(registry, 'scribe_appends_total', { store: 'bank', operation: 'execute', owner: 'remote', outcome: 'ok' })).toBe(1);
    expect(await sample(registry, 'scribe_unknown_outcomes_total', { store: 'bank', operation: 'append' })).toBe(1);
  });

  it('counts transactions by outcome, the events they committed and the appends each carried', async () => {
    const registry = new Registry();
    const store = fakeStore();
    storeMetrics(store, { registry });
    store.emit(
      { type: 'batch-committed', partition: 1, appends: 3, events: 5, bytes: 900, durationMs: 12 },
      { type: 'batch-committed', partition: 2, appends: 100, events: 100, bytes: 9000, durationMs: 30 },
      { type: 'batch-aborted', partition: 1, appends: 4, outcome: 'unknown', reason: 'commit timed out' },
      { type: 'batch-aborted', partition: 1, appends: 4, outcome: 'fenced', reason: 'fenced' },
      { type: 'producer-reinitialised', partition: 1, reason: 'after an unknown outcome' },
      { type: 'conflict', streamId: 's', partition: 1, expected: '3', actual: 5 },
      { type: 'conflict', streamId: 't', partition: 1, expected: 'no_stream', actual: 0 },
    );
    expect(await sample(registry, 'scribe_transactions_total', { outcome: 'committed' })).toBe(2);
    expect(await sample(registry, 'scribe_transactions_total', { outcome: 'unknown' })).toBe(1);
    expect(await sample(registry, 'scribe_transactions_total', { outcome: 'fenced' })).toBe(1);
    expect(await sample(registry, 'scribe_events_committed_total')).toBe(105);
    expect(await sample(registry, 'scribe_appends_per_transaction_count')).toBe(2);
    expect(await sample(registry, 'scribe_appends_per_transaction_sum')).toBe(103);
    expect(await sample(registry, 'scribe_appends_per_transaction_bucket', { le: '4' })).toBe(1);
    expect(await sample(registry, 'scribe_transaction_duration_seconds_sum')).toBeCloseTo(0.042, 6);
    expect(await sample(registry, 'scribe_producer_reinitialisations_total')).toBe(1);
    expect(await sample(registry, 'scribe_conflicts_total')).toBe(2);
  });

  it('shows owned partitions and the state of each writer when scraped (per-batch states read as ready)', async () => {
    const registry = new Registry();
    const store = fakeStore('bank', [0, 3]);
    storeMetrics(store, { registry });
    store.emit(
      { type: 'ownership-gained', partitions: [0, 3] },
      { type: 'writer-state-changed', partition: 0, from: 'starting', to: 'recovering' },
      { type: 'writer-state-changed', partition: 0, from: 'recovering', to: 'ready' },
      { type: 'writer-state-changed', partition: 0, from: 'ready', to: 'in-transaction' },
      { type: 'writer-state-changed', partition: 3, from: 'starting', to: 'recovering' },
    );
    expect(await sample(registry, 'scribe_owned_partitions', { store: 'bank' })).toBe(2);
    expect(await sample(registry, 'scribe_writer_state', { partition: '0', state: 'ready' })).toBe(1);
    expect(await sample(registry, 'scribe_writer_state', { partition: '3', state: 'recovering' })).toBe(1);
    expect(await sample(registry, 'scribe_writer_state', { partition: '0', state: 'recovering' })).toBeUndefined();
    expect(await sample(registry, 'scribe_ownership_changes_total', { change: 'gained' })).toBe(2);
    store.ownedPartitions.splice(0, 2, 3);
    store.emit({ type: 'ownership-lost', partitions: [0] });
    expect(await sample(registry, 'scribe_owned_partitions')).toBe(1);
    expect(await sample(registry, 'scribe_writer_state', { partition: '0' })).toBeUndefined();
    expect(await sample(registry, 'scribe_ownership_changes_total', { change: 'lost' })).toBe(1);
  });

  it('keeps the latest index, subscription and projection lag per partition', async () => {
    const registry = new Registry();
    const store = fakeStore();
    storeMetrics(store, { registry });
    store.emit(
      { type: 'index-caught-up', partition: 2, offset: 100, behind: 40 },
      { type: 'index-caught-up', partition: 2, offset: 140, behind: 0 },
      { type: 'subscription-lag', group: 'bank.events.subscription.balances', partition: 1, events: 250, seconds: 3.5 },
    );
    expect(await sample(registry, 'scribe_index_lag_records', { partition: '2' })).toBe(0);
    const sub = { subscription: 'bank.events.subscription.balances', partition: '1' };
    expect(await sample(registry, 'scribe_subscription_lag_events', sub)).toBe(250);
    expect(await sample(registry, 'scribe_subscription_lag_seconds', sub)).toBe(3.5);
  });

  it('times remote requests at the requester and at the owner', async () => {
    const registry = new Registry();
    const store = fakeStore();
    storeMetrics(store, { registry });
    store.emit(
      { type: 'request-answered', partition: 1, kind: 'append', outcome: 'ok', durationMs: 8 },
      { type: 'request-answered', partition: 1, kind: 'command', outcome: 'APPEND_OUTCOME_UNKNOWN', durationMs: 30_000 },
      { type: 'request-served', partition: 1, kind: 'append', streamId: 's', outcome: 'ok', offset: '9', durationMs: 5 },
    );
    expect(await sample(registry, 'scribe_remote_request_duration_seconds_sum', { kind: 'append', outcome: 'ok' })).toBeCloseTo(0.008, 6);
    expect(await sample(registry, 'scribe_remote_request_duration_seconds_count', { kind: 'command', outcome: 'APPEND_OUTCOME_UNKNOWN' })).toBe(1);
    expect(await sample(registry, 'scribe_served_request_duration_seconds_count', { kind: 'append', outcome: 'ok' })).toBe(1);
  });

  it("shows the Kafka clients' queue depth, broker round trips and consumer lag", async () => {
    const registry = new Registry();
    const store = fakeStore();
    storeMetrics(store, { registry });
    store.emit({
      type: 'kafka-statistics',
      client: 'scribe-bank-p0-txn-producer',
      role: 'producer',
      queuedMessages: 12,
      queuedBytes: 3_072,
      brokers: [{ broker: '127.0.0.1:9092', rttAvgSeconds: 0.0015, rttP99Seconds: 0.009, requestsQueued: 2, requestsInFlight: 1 }],
    });
    const client = { client: 'scribe-bank-p0-txn-producer', role: 'producer' };
    expect(await sample(registry, 'scribe_kafka_queued_messages', client)).toBe(12);
    expect(await sample(registry, 'scribe_kafka_queued_bytes', client)).toBe(3_072);
    expect(await sample(registry, 'scribe_kafka_broker_rtt_average_seconds', { ...client, broker: '127.0.0.1:9092' })).toBe(0.0015);
    expect(await sample(registry, 'scribe_kafka_broker_rtt_p99_seconds', client)).toBe(0.009);
    expect(await sample(registry, 'scribe_kafka_broker_requests_queued', client)).toBe(2);
    expect(await sample(registry, 'scribe_kafka_broker_requests_in_flight', client)).toBe(1);
    expect(await sample(registry, 'scribe_kafka_consumer_lag_records', client)).toBeUndefined();
  });

  it('keeps two stores on one registry apart by the store label, and stop() stops recording', async () => {
    const registry = new Registry();
    const a = fakeStore('a');
    const b = fakeStore('b');
    const metricsA = storeMetrics(a, { registry });
    storeMetrics(b, { registry });
    a.emit({ type: 'conflict', streamId: 's', partition: 0, expected: '1', actual: 2 });
    b.emit({ type: 'conflict', streamId: 's', partition: 0, expected: '1', actual: 2 }, { type: 'conflict', streamId: 's', partition: 0, expected: '1', actual: 2 });
    expect(await sample(registry, 'scribe_conflicts_total', { store: 'a' })).toBe(1);
    expect(await sample(registry, 'scribe_conflicts_total', { store: 'b' })).toBe(2);
    metricsA.stop();
    expect(a.listening).toBe(0);
    a.emit({ type: 'conflict', streamId: 's', partition: 0, expected: '1', actual: 2 });
    expect(await sample(registry, 'scribe_conflicts_total', { store: 'a' })).toBe(1);
  });
});
