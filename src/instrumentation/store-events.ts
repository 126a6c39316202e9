// What a store reports about its own work, as typed events: the one port that logs, metrics
// and traces plug into. No Kafka types here: a backend says what happened in the words of the store.

/** How an append ended, as instrumentation counts it: `ok`, or the stable code of its error. */
export type AppendOutcome = 'ok' | string;

/** Why a writer's transaction did not commit, and what that means for its appends. */
export type AbortOutcome = 'not-stored' | 'unknown' | 'fenced';

export type StoreEvent =
  /** A transaction of a partition's writer committed. */
  | {
      readonly type: 'batch-committed';
      readonly partition: number;
      readonly appends: number;
      readonly events: number;
      readonly bytes: number;
      /** From the transaction's begin to its commit's return. */
      readonly durationMs: number;
    }
  /** A transaction of a partition's writer failed: what became of its appends. */
  | { readonly type: 'batch-aborted'; readonly partition: number; readonly appends: number; readonly outcome: AbortOutcome; readonly reason: string }
  /** The writer replaced its producer (a new epoch), e.g. after an unknown commit outcome. */
  | { readonly type: 'producer-reinitialised'; readonly partition: number; readonly reason: string }
  | { readonly type: 'writer-state-changed'; readonly partition: number; readonly from: string; readonly to: string }
  | { readonly type: 'ownership-gained'; readonly partitions: readonly number[] }
  | { readonly type: 'ownership-lost'; readonly partitions: readonly number[] }
  /** An append refused because the stream was not at the expected version. */
  | { readonly type: 'conflict'; readonly streamId: string; readonly partition: number; readonly expected: string; readonly actual: number }
  /** Every append (or command) this process was asked for, once settled, from the caller's side. */
  | {
      readonly type: 'append-settled';
      readonly streamId: string;
      readonly partition: number;
      /** Whether this process owned the partition or sent the append to its owner. */
      readonly owner: 'local' | 'remote';
      readonly outcome: AppendOutcome;
      readonly events: number;
      readonly durationMs: number;
    }
  /** Progress of reading a partition into the local index (recovery, takeover, reads). */
  | { readonly type: 'index-caught-up'; readonly partition: number; readonly offset: number; readonly behind: number }
  /** A subscription's distance from the end of a partition after handling a batch. */
  | { readonly type: 'subscription-lag'; readonly group: string; readonly partition: number; readonly events: number; readonly seconds: number }
  /** An operational message with no figures worth a type of its own. */
  | { readonly type: 'notice'; readonly message: string }
  /** A request this process sent to another process's owner through the appends topic got its reply, or none in time. */
  | {
      readonly type: 'request-answered';
      readonly partition: number;
      readonly kind: RequestKind;
      /** `ok`, the code of the error the owner answered, or `APPEND_OUTCOME_UNKNOWN` when no reply came. */
      readonly outcome: AppendOutcome;
      /** From sending the request to its reply (or to giving up). */
      readonly durationMs: number;
    }
  /** An owner of this process served a request read from the appends topic (its reply is committed with its events). */
  | {
      readonly type: 'request-served';
      readonly partition: number;
      readonly kind: RequestKind;
      readonly streamId: string;
      readonly outcome: AppendOutcome;
      /** The position of the request's last event when it was stored. */
      readonly offset?: string;
      /** From reading the request to its answer. */
      readonly durationMs: number;
      /** The requester's trace context (W3C `traceparent`, `tracestate`), when it sent one. */
      readonly trace?: TraceCarrier;
    }
  /** A Kafka client's statistics, summarised (librdkafka's statistics, every `kafkaStatisticsIntervalMs`). */
  | ({ readonly type: 'kafka-statistics' } & KafkaClientStatistics);

/** What a process asks of a partition's owner. */
export type RequestKind = 'append' | 'command' | 'seal';

/** W3C trace context as text (`traceparent`, `tracestate`): what travels in request headers and event metadata. */
export type TraceCarrier = Readonly<Record<string, string>>;

/** The figures of a Kafka client's statistics an operator acts on. */
export interface KafkaClientStatistics {
  /** The client's `client.id`, e.g. `scribe-bank-txn-producer`. */
  readonly client: string;
  /** producer or consumer (librdkafka's `type`). */
  readonly role: string;
  /** Messages waiting in the client's queues (librdkafka `msg_cnt`) and their bytes (`msg_size`). */
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** Per broker: request round trip (`rtt`, microseconds in librdkafka, seconds here) and requests waiting. */
  readonly brokers: readonly {
    readonly broker: string;
    readonly rttAvgSeconds: number;
    readonly rttP99Seconds: number;
    /** Requests waiting to be sent (`outbuf_cnt`) and sent, waiting for their response (`waitresp_cnt`). */
    readonly requestsQueued: number;
    readonly requestsInFlight: number;
  }[];
  /** A consumer's distance from the partitions' ends (`consumer_lag` summed over its partitions), when it reports one. */
  readonly consumerLag?: number;
}

export type StoreEventType = StoreEvent['type'];

/** A subscriber to a store's events. It runs synchronously on the store's path: keep it cheap. */
export type StoreListener = (event: StoreEvent & { readonly time: number }) => void;
