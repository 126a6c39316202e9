// A store's typed events as Prometheus metrics (prom-client): one listener on the store's
// instrumentation port, and two gauges read when scraped. Nothing is registered until
// `storeMetrics` is called; names and units follow Prometheus conventions (docs/decisions/0020).
import client from 'prom-client';
import type { Registry } from 'prom-client';
import type { StoreEvent, StoreListener } from '../instrumentation/store-events.js';
import { metricDefinitions, type ScribeMetrics } from './definitions.js';

/** What metrics need of a store: its name, its events, and (a Kafka store) the partitions it owns. */
export interface MeteredStore {
  readonly name: string;
  observe(listener: StoreListener): () => void;
  readonly ownedPartitions?: readonly number[];
}

export interface StoreMetricsOptions {
  /** Where the metrics are registered (default: prom-client's global registry, `register`). */
  readonly registry?: Registry;
}

/** A store's metrics while they are recorded; `stop()` stops recording them. */
export interface StoreMetrics {
  readonly registry: Registry;
  stop(): void;
}

/** The writer states a writer passes through for every batch: shown as `ready`. */
const batchStates = new Set(['in-transaction', 'writing', 'committing']);

/** One store's part of the metrics: what it reports, kept for the gauges read at scrape time. */
class StoreBinding {
  readonly writerStates = new Map<number, string>();
  /**
   * Per operation, owner and outcome: the histogram's child and the count of appends. The
   * count is handed to `scribe_appends_total` when scraped: a prom-client increment hashes
   * its labels, and this is the path of every append.
   */
  readonly appendCounts = new Map<string, { labels: Record<'store' | 'operation' | 'owner' | 'outcome', string>; duration: client.Histogram.Internal<string>; count: number }>();

  constructor(
    readonly store: MeteredStore,
    private readonly metrics: ScribeMetrics,
  ) {}

  readonly listener = (event: StoreEvent): void => {
    const m = this.metrics;
    const store = this.store.name;
    switch (event.type) {
      case 'append-settled': {
        const operation = event.events === 0 ? 'execute' : 'append';
        const key = `${operation}|${event.owner}|${event.outcome}`;
        let counted = this.appendCounts.get(key);
        if (!counted) {
          const labels = { store, operation, owner: event.owner, outcome: event.outcome };
          counted = { labels, duration: m.appendDuration.labels(labels), count: 0 };
          this.appendCounts.set(key, counted);
        }
        counted.duration.observe(event.durationMs / 1000);
        counted.count++;
        if (event.outcome === 'APPEND_OUTCOME_UNKNOWN') m.unknownOutcomes.inc({ store, operation });
        return;
      }
      case 'batch-committed':
        m.transactions.inc({ store, outcome: 'committed' });
        m.eventsCommitted.inc({ store }, event.events);
        m.appendsPerTransaction.observe({ store }, event.appends);
        m.transactionDuration.observe({ store }, event.durationMs / 1000);
        return;
      case 'batch-aborted':
        m.transactions.inc({ store, outcome: event.outcome });
        return;
      case 'conflict':
        m.conflicts.inc({ store });
        return;
      case 'producer-reinitialised':
        m.producerReinitialisations.inc({ store });
        return;
      case 'writer-state-changed':
        this.writerStates.set(event.partition, batchStates.has(event.to) ? 'ready' : event.to);
        return;
      case 'ownership-gained':
        m.ownershipChanges.inc({ store, change: 'gained' }, event.partitions.length);
        for (const partition of event.partitions) this.writerStates.set(partition, 'starting');
        return;
      case 'ownership-lost':
        m.ownershipChanges.inc({ store, change: 'lost' }, event.partitions.length);
        for (const partition of event.partitions) this.writerStates.delete(partition);
        return;
      case 'index-caught-up':
        m.indexLag.set({ store, partition: String(event.partition) }, event.behind);
        return;
      case 'subscription-lag': {
        const labels = { store, subscription: event.group, partition: String(event.partition) };
        m.subscriptionLagEvents.set(labels, event.events);
        m.subscriptionLagSeconds.set(labels, event.seconds);
        return;
      }
      case 'request-answered':
        m.remoteRequestDuration.observe({ store, kind: event.kind, outcome: event.outcome }, event.durationMs / 1000);
        return;
      case 'request-served':
        m.servedRequestDuration.observe({ store, kind: event.kind, outcome: event.outcome }, event.durationMs / 1000);
        return;
      case 'kafka-statistics': {
        const labels = { store, client: event.client, role: event.role };
        m.kafkaQueuedMessages.set(labels, event.queuedMessages);
        m.kafkaQueuedBytes.set(labels, event.queuedBytes);
        if (event.consumerLag !== undefined) m.kafkaConsumerLag.set(labels, event.consumerLag);
        for (const b of event.brokers) {
          const broker = { ...labels, broker: b.broker };
          m.kafkaBrokerRttAvg.set(broker, b.rttAvgSeconds);
          m.kafkaBrokerRttP99.set(broker, b.rttP99Seconds);
          m.kafkaBrokerRequestsQueued.set(broker, b.requestsQueued);
          m.kafkaBrokerRequestsInFlight.set(broker, b.requestsInFlight);
        }
        return;
      }
      case 'notice':
        return;
      default:
        return ignore(event);
    }
  };
}

/** A new event type has no metric yet: the compiler names it here. */
function ignore(event: never): void {
  void event;
}

/** Per registry, its Scribe metrics and the stores bound to them (several stores share one registry, by the `store` label). */
const registered = new WeakMap<Registry, { metrics: ScribeMetrics; bindings: Set<StoreBinding> }>();

function metricsOf(registry: Registry): { metrics: ScribeMetrics; bindings: Set<StoreBinding> } {
  let entry = registered.get(registry);
  if (!entry) {
    const bindings = new Set<StoreBinding>();
    const metrics = metricDefinitions(registry, {
      ownedPartitions(gauge) {
        gauge.reset();
        for (const b of bindings) gauge.set({ store: b.store.name }, b.store.ownedPartitions?.length ?? 0);
      },
      appends(counter) {
        counter.reset();
        for (const b of bindings) for (const { labels, count } of b.appendCounts.values()) counter.inc(labels, count);
      },
      writerStates(gauge) {
        gauge.reset();
        for (const b of bindings) {
          const owned = b.store.ownedPartitions;
          for (const partition of owned ?? b.writerStates.keys()) {
            gauge.set({ store: b.store.name, partition: String(partition), state: b.writerStates.get(partition) ?? 'starting' }, 1);
          }
        }
      },
    });
    entry = { metrics, bindings };
    registered.set(registry, entry);
  }
  return entry;
}

/**
 * Records the store's metrics in `registry` (default: prom-client's global registry) until
 * `stop()`. Every metric carries the store's name as the label `store`.
 */
export function storeMetrics(store: MeteredStore, options: StoreMetricsOptions = {}): StoreMetrics {
  const registry = options.registry ?? client.register;
  const { metrics, bindings } = metricsOf(registry);
  const binding = new StoreBinding(store, metrics);
  bindings.add(binding);
  const unobserve = store.observe(binding.listener);
  return {
    registry,
    stop() {
      unobserve();
      bindings.delete(binding);
    },
  };
}
