// Every Scribe metric: its Prometheus name, unit, type, labels and help text, in one place
// (the README's table lists the same). Seconds and bytes as base units; counters end in _total.
import client from 'prom-client';
import type { Counter, Gauge, Registry } from 'prom-client';

/** Append and request latencies: 1 ms to 30 s (an append's bound is 30 s by default). */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Appends per transaction: group commit carries from 1 to the writer's batch limit (1,000). */
const batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** Gauges computed when scraped, from the stores bound to the registry. */
export interface ScrapedGauges {
  ownedPartitions(gauge: Gauge<'store'>): void;
  appends(counter: Counter<'store' | 'operation' | 'owner' | 'outcome'>): void;
  writerStates(gauge: Gauge<'store' | 'partition' | 'state'>): void;
}

export function metricDefinitions(registry: Registry, scraped: ScrapedGauges) {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new client.Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new client.Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) => new client.Histogram<L>({ name, help, labelNames, buckets, registers });
  const kafka = ['store', 'client', 'role'] as const;
  const broker = [...kafka, 'broker'] as const;
  return {
    appendDuration: histogram(
      'scribe_append_duration_seconds',
      'Time from append() (or execute()) to its result, retries on ownership changes included, by outcome (ok or the error code) and where the owner ran',
      ['store', 'operation', 'owner', 'outcome'],
      latencyBuckets,
    ),
    appends: new client.Counter({
      name: 'scribe_appends_total',
      help: 'Appends and commands settled in this process, by outcome (ok or the error code)',
      labelNames: ['store', 'operation', 'owner', 'outcome'] as const,
      registers,
      collect() {
        scraped.appends(this);
      },
    }),
    unknownOutcomes: counter('scribe_unknown_outcomes_total', 'Appends and commands that ended in APPEND_OUTCOME_UNKNOWN (retry with the same event ids)', ['store', 'operation']),
    eventsCommitted: counter('scribe_events_committed_total', 'Events committed by the writers of this process', ['store']),
    transactions: counter('scribe_transactions_total', "Writers' transactions, by outcome: committed, not-stored (aborted), unknown (commit outcome unknown), fenced", ['store', 'outcome']),
    appendsPerTransaction: histogram('scribe_appends_per_transaction', 'Appends (and commands) carried by each committed transaction (group commit)', ['store'], batchBuckets),
    transactionDuration: histogram('scribe_transaction_duration_seconds', "A committed transaction's time from its begin to its commit's return", ['store'], latencyBuckets),
    conflicts: counter('scribe_conflicts_total', 'Appends refused because the stream was not at the expected version (WRONG_EXPECTED_VERSION), counted at the owner', ['store']),
    producerReinitialisations: counter('scribe_producer_reinitialisations_total', "Writers' producers replaced with a new epoch (after an unknown commit outcome or an abortable failure)", ['store']),
    ownershipChanges: counter('scribe_ownership_changes_total', 'Partitions assigned to (gained) or revoked from (lost) this process by the writer group', ['store', 'change']),
    ownedPartitions: new client.Gauge({
      name: 'scribe_owned_partitions',
      help: 'Partitions this process owns now',
      labelNames: ['store'] as const,
      registers,
      collect() {
        scraped.ownedPartitions(this);
      },
    }),
    writerState: new client.Gauge({
      name: 'scribe_writer_state',
      help: "1 for the state of each owned partition's writer (starting, recovering, ready, abortable, reinitialising, fenced, failed, closed; ready includes a batch in flight)",
      labelNames: ['store', 'partition', 'state'] as const,
      registers,
      collect() {
        scraped.writerStates(this);
      },
    }),
    indexLag: gauge('scribe_index_lag_records', 'Records of a partition the local index has yet to read to reach the offset a read or a writer waits for (0: caught up)', ['store', 'partition']),
    subscriptionLagEvents: gauge('scribe_subscription_lag_events', "Records between a subscription's (or projection runner's) position and the partition's end, commit markers included", ['store', 'subscription', 'partition']),
    subscriptionLagSeconds: gauge('scribe_subscription_lag_seconds', 'Age of the last event a subscription (or projection runner) handled while records wait after it (0 at the end)', ['store', 'subscription', 'partition']),
    remoteRequestDuration: histogram(
      'scribe_remote_request_duration_seconds',
      "Round trip of a request to another process's owner through the appends topic, to its reply (outcome ok, the error code, or APPEND_OUTCOME_UNKNOWN when none came)",
      ['store', 'kind', 'outcome'],
      latencyBuckets,
    ),
    servedRequestDuration: histogram('scribe_served_request_duration_seconds', 'At the owner: from reading a request off the appends topic to its answer', ['store', 'kind', 'outcome'], latencyBuckets),
    kafkaQueuedMessages: gauge('scribe_kafka_queued_messages', "Messages in a Kafka client's queues (librdkafka msg_cnt)", kafka),
    kafkaQueuedBytes: gauge('scribe_kafka_queued_bytes', "Bytes of the messages in a Kafka client's queues (librdkafka msg_size)", kafka),
    kafkaConsumerLag: gauge('scribe_kafka_consumer_lag_records', "A consumer's distance from its partitions' ends, summed (librdkafka consumer_lag)", kafka),
    kafkaBrokerRttAvg: gauge('scribe_kafka_broker_rtt_average_seconds', "Average request round trip to a broker over the last statistics interval (librdkafka rtt.avg)", broker),
    kafkaBrokerRttP99: gauge('scribe_kafka_broker_rtt_p99_seconds', '99th percentile of the request round trip to a broker over the last statistics interval (librdkafka rtt.p99)', broker),
    kafkaBrokerRequestsQueued: gauge('scribe_kafka_broker_requests_queued', 'Requests waiting to be sent to a broker (librdkafka outbuf_cnt)', broker),
    kafkaBrokerRequestsInFlight: gauge('scribe_kafka_broker_requests_in_flight', 'Requests sent to a broker and waiting for their response (librdkafka waitresp_cnt)', broker),
  };
}

export type ScribeMetrics = ReturnType<typeof metricDefinitions>;
