// librdkafka's statistics (a JSON document of hundreds of fields per client) summarised to the
// figures an operator acts on: queue depth, request round trip per broker, consumer lag.
// Field meanings: https://github.com/confluentinc/librdkafka/blob/master/STATISTICS.md
import type { KafkaClientStatistics } from './store-events.js';

interface RawBroker {
  readonly nodeid?: number;
  readonly nodename?: string;
  readonly outbuf_cnt?: number;
  readonly waitresp_cnt?: number;
  readonly rtt?: { readonly avg?: number; readonly p99?: number };
}

interface RawStatistics {
  readonly client_id?: string;
  readonly name?: string;
  readonly type?: string;
  readonly msg_cnt?: number;
  readonly msg_size?: number;
  readonly brokers?: Readonly<Record<string, RawBroker>>;
  readonly topics?: Readonly<Record<string, { readonly partitions?: Readonly<Record<string, { readonly consumer_lag?: number }>> }>>;
}

const microseconds = (value: number | undefined) => Math.round(value ?? 0) / 1_000_000;

/** The summary of one statistics document; undefined for text that is not one. */
export function summariseStatistics(json: string): KafkaClientStatistics | undefined {
  let raw: RawStatistics;
  try {
    raw = JSON.parse(json) as RawStatistics;
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const brokers = Object.values(raw.brokers ?? {})
    // Bootstrap entries (node id -1) stand for the same brokers as the real ones.
    .filter((b) => (b.nodeid ?? -1) >= 0)
    .map((b) => ({
      broker: String(b.nodename ?? b.nodeid),
      rttAvgSeconds: microseconds(b.rtt?.avg),
      rttP99Seconds: microseconds(b.rtt?.p99),
      requestsQueued: b.outbuf_cnt ?? 0,
      requestsInFlight: b.waitresp_cnt ?? 0,
    }));
  let consumerLag: number | undefined;
  if (raw.type === 'consumer') {
    for (const topic of Object.values(raw.topics ?? {})) {
      for (const [id, partition] of Object.entries(topic.partitions ?? {})) {
        // -1: unknown (not fetched yet); the internal partition "-1" is librdkafka's UA partition.
        if (id === '-1' || partition.consumer_lag === undefined || partition.consumer_lag < 0) continue;
        consumerLag = (consumerLag ?? 0) + partition.consumer_lag;
      }
    }
  }
  return {
    client: String(raw.client_id ?? raw.name ?? 'unknown'),
    role: String(raw.type ?? 'unknown'),
    queuedMessages: raw.msg_cnt ?? 0,
    queuedBytes: raw.msg_size ?? 0,
    brokers,
    ...(consumerLag === undefined ? {} : { consumerLag }),
  };
}
