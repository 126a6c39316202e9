// raw-produce: how fast can a client write to Kafka at all, with the guarantees Scribe needs
// (idempotence, acks=all, transactions)? Measured for the chosen client through Scribe's own
// KafkaProducer (src/kafka/producer.ts, @confluentinc/kafka-javascript) and for KafkaJS, on
// the same broker, in the same run, with the same records, for the client decision
// (docs/decisions/0001-kafka-client.md).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { Kafka, Partitioners, logLevel, type Message, type Producer as KafkaJsProducer } from 'kafkajs';
import { withTimeout } from '../../src/errors.js';
import { KafkaProducer } from '../../src/kafka/index.js';
import { packageVersion } from '../environment.js';
import { runWindowed } from '../load.js';
import { positiveInteger, positiveIntegers, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { defineShared, parseShared } from '../options.js';
import { latencySummary, perSecond, round } from '../stats.js';
import { withFreshTopic } from '../topics.js';

const clientNames = ['confluent', 'kafkajs'] as const;
type ClientName = (typeof clientNames)[number];

export interface RawProduceOptions {
  readonly clients: ClientName[];
  /** Records per idempotent throughput measurement. */
  readonly records: number;
  readonly recordSize: number;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Sends in flight for the chosen client's idempotent throughput (one record per send). */
  readonly window: number;
  /** Transaction sizes: one measurement per N, committing every N records. */
  readonly commitEvery: number[];
  /** Transactions per transactional measurement (each of N records). */
  readonly transactions: number;
  /** Group commit (chosen client): writers waiting on a commit at once, one measurement per value. */
  readonly groupCommitWriters: number[];
  readonly groupCommitRecords: number;
  readonly latencyRecords: number;
  /** Sends in flight in the latency measurement (one record per send, both clients). */
  readonly latencyWindow: number;
  /** Records per KafkaJS send() call in throughput measurements (KafkaJS does not batch by itself). */
  readonly kafkajsBatch: number;
  /** KafkaJS send() calls in flight in the idempotent throughput measurement. */
  readonly kafkajsWindow: number;
  /** KafkaJS retry.initialRetryTime; undefined keeps KafkaJS's default (300 ms). */
  readonly kafkajsInitialRetryMs: number | undefined;
  readonly caseTimeoutMs: number;
}

/** The records every client writes: the same value bytes, keys from a fixed set, partitions round-robin. */
class Workload {
  readonly value: Buffer;
  readonly keys: Buffer[];

  constructor(
    readonly topic: string,
    readonly partitions: number,
    recordSize: number,
  ) {
    this.value = Buffer.alloc(recordSize, 'x');
    this.keys = Array.from({ length: 1000 }, (_, i) => Buffer.from(`stream-${String(i).padStart(4, '0')}`));
  }

  partition(i: number): number {
    return i % this.partitions;
  }

  key(i: number): Buffer {
    return this.keys[i % this.keys.length]!;
  }
}

interface CaseResult {
  readonly figures: Record<string, number>;
  readonly details: Record<string, unknown>;
}

/** One way of producing: the chosen client or KafkaJS, each in its idiomatic form. */
interface ClientDriver {
  /** Latency again with librdkafka's linger.ms 0 instead of Scribe's 5 (the chosen client only). */
  latencyWithoutLinger?(w: Workload, o: LatencyOptions): Promise<CaseResult>;
  /** What the client logged during the measurement (KafkaJS logs every retried error), by message. */
  logged?(): Record<string, number>;
  idempotent(w: Workload, o: RawProduceOptions): Promise<CaseResult>;
  /** What an append costs without Scribe: one record per writer, acknowledged once committed (the chosen client only). */
  groupCommit?(w: Workload, o: Pick<RawWritersOptions, 'records' | 'window'>): Promise<CaseResult>;
  transactional(w: Workload, o: Pick<RawProduceOptions, 'transactions' | 'kafkajsBatch'>, commitEvery: number): Promise<CaseResult>;
  latency(w: Workload, o: LatencyOptions): Promise<CaseResult>;
}

/** What a latency measurement needs: how many records, and how many sends in flight. */
type LatencyOptions = Pick<RawProduceOptions, 'latencyRecords' | 'latencyWindow'>;

// ---------------------------------------------------------------------------------------
// The chosen client, through Scribe's KafkaProducer: one send() per record, each resolved by
// its delivery report; librdkafka batches (linger.ms 5) and keeps up to 5 requests in flight.

function confluentDriver(brokers: string[]): ClientDriver {
  const connection = { brokers, clientId: 'bench-confluent' };

  const sendOne = (producer: KafkaProducer, w: Workload, i: number) =>
    producer.send({ topic: w.topic, partition: w.partition(i), key: w.key(i), value: w.value });

  /** One record to every partition, awaited: connections, metadata and producer id are ready. */
  const prime = (producer: KafkaProducer, w: Workload) => Promise.all(Array.from({ length: w.partitions }, (_, p) => sendOne(producer, w, p)));

  return {
    async idempotent(w, o) {
      const producer = await KafkaProducer.connect(connection);
      try {
        await prime(producer, w);
        const run = await runWindowed({ total: o.records, window: o.window }, (i) => sendOne(producer, w, i));
        return {
          figures: { recordsPerSec: perSecond(o.records, run.elapsedMs) },
          details: { records: o.records, elapsedMs: round(run.elapsedMs, 1), sendsInFlight: o.window },
        };
      } finally {
        await producer.disconnect();
      }
    },

    async transactional(w, o, commitEvery) {
      const producer = await KafkaProducer.connect({ ...connection, transactionalId: `bench-confluent-${randomUUID()}` });
      try {
        await producer.initTransactions(30_000);
        await producer.beginTransaction();
        const primed = settledLater(prime(producer, w));
        await producer.commitTransaction(30_000);
        await primed;

        const records = o.transactions * commitEvery;
        const durations: number[] = [];
        const started = performance.now();
        for (let first = 0; first < records; first += commitEvery) {
          const began = performance.now();
          await producer.beginTransaction();
          const sends: Promise<unknown>[] = [];
          for (let i = first; i < first + commitEvery; i++) sends.push(sendOne(producer, w, i));
          const delivered = settledLater(Promise.all(sends));
          // commitTransaction flushes the transaction's records before committing it.
          await producer.commitTransaction(30_000);
          await delivered;
          durations.push(performance.now() - began);
        }
        const elapsedMs = performance.now() - started;
        return transactionalResult(records, commitEvery, elapsedMs, durations);
      } finally {
        await producer.disconnect();
      }
    },

    // `window` writers each send one record and wait until the transaction holding it has
    // committed, as an append does. One transactional producer takes every record waiting
    // when it begins a transaction (group commit), awaits their delivery reports and commits:
    // measured faster than committing at once (commitTransaction's own flush waits for
    // librdkafka's 10 ms poll tick, docs/benchmarks.md). linger.ms 0, as Scribe's writers:
    // the batching is the transaction's.
    async groupCommit(w, o) {
      const producer = await KafkaProducer.connect({ ...connection, transactionalId: `bench-confluent-${randomUUID()}`, overrides: { 'linger.ms': 0 } });
      try {
        await producer.initTransactions(30_000);
        await producer.beginTransaction();
        await prime(producer, w);
        await producer.commitTransaction(30_000);

        let waiting: { index: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
        let committing = false;
        const transactionSizes: number[] = [];
        const commitWaiting = async () => {
          try {
            for (;;) {
              // One turn of the event loop first, so that the writers the last commit answered
              // (at the start: every writer) are waiting again when the batch is taken.
              await new Promise(setImmediate);
              if (waiting.length === 0) return;
              const batch = waiting;
              waiting = [];
              try {
                await producer.beginTransaction();
                await Promise.all(batch.map((record) => sendOne(producer, w, record.index)));
                await producer.commitTransaction(30_000);
              } catch (error) {
                for (const record of [...batch, ...waiting]) record.reject(error);
                waiting = [];
                return;
              }
              transactionSizes.push(batch.length);
              for (const record of batch) record.resolve();
            }
          } finally {
            // Synchronously with the loop's end: a writer answered just now starts the next one.
            committing = false;
          }
        };
        const write = (index: number) =>
          new Promise<void>((resolve, reject) => {
            waiting.push({ index, resolve, reject });
            if (!committing) {
              committing = true;
              void commitWaiting();
            }
          });
        const run = await runWindowed({ total: o.records, window: o.window, recordLatency: true }, write);
        const latency = latencySummary(run.latenciesMs);
        return {
          figures: {
            recordsPerSec: perSecond(o.records, run.elapsedMs),
            p50Ms: latency.p50Ms,
            p99Ms: latency.p99Ms,
            recordsPerTransaction: round(o.records / transactionSizes.length, 2),
          },
          details: {
            records: o.records,
            writers: o.window,
            transactions: transactionSizes.length,
            recordsPerTransaction: { min: Math.min(...transactionSizes), max: Math.max(...transactionSizes) },
            elapsedMs: round(run.elapsedMs, 1),
            latency,
          },
        };
      } finally {
        await producer.disconnect();
      }
    },

    latency: (w, o) => latency(w, o, {}),
    latencyWithoutLinger: (w, o) => latency(w, o, { 'linger.ms': 0 }),
  };

  async function latency(w: Workload, o: LatencyOptions, overrides: Record<string, number>): Promise<CaseResult> {
    const producer = await KafkaProducer.connect({ ...connection, overrides });
    try {
      await prime(producer, w);
      const run = await runWindowed({ total: o.latencyRecords, window: o.latencyWindow, recordLatency: true }, (i) => sendOne(producer, w, i));
      return latencyResult(o, run.elapsedMs, run.latenciesMs);
    } finally {
      await producer.disconnect();
    }
  }
}

// ---------------------------------------------------------------------------------------
// KafkaJS 2.2.4: no client-side batching (every send() is one Produce request), so throughput
// cases send arrays of records; its idempotent producer serialises Produce requests per broker
// with a mutex (src/producer/eosManager/index.js), and its docs require maxInFlightRequests 1
// with idempotent: true for transactions (docs/Transactions.md).

const levelNames: Record<number, string> = { [logLevel.ERROR]: 'ERROR', [logLevel.WARN]: 'WARN', [logLevel.INFO]: 'INFO', [logLevel.DEBUG]: 'DEBUG' };

function kafkajsDriver(brokers: string[], initialRetryMs: number | undefined): ClientDriver {
  // KafkaJS logs each retried error (e.g. CONCURRENT_TRANSACTIONS) at ERROR level: count them
  // for the result instead of printing them. Failures that are not retried still throw.
  const logged: Record<string, number> = {};
  const kafka = new Kafka({
    clientId: 'bench-kafkajs',
    brokers,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const key = `${levelNames[entry.level] ?? entry.level} ${entry.log.message}${typeof entry.log.error === 'string' ? `: ${entry.log.error}` : ''}`;
      logged[key] = (logged[key] ?? 0) + 1;
    },
    ...(initialRetryMs !== undefined ? { retry: { initialRetryTime: initialRetryMs } } : {}),
  });
  const producerConfig = {
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Partitions are explicit; naming the partitioner only silences KafkaJS's v2 warning.
    createPartitioner: Partitioners.DefaultPartitioner,
  };

  const messages = (w: Workload, first: number, count: number): Message[] =>
    Array.from({ length: count }, (_, k) => ({ partition: w.partition(first + k), key: w.key(first + k), value: w.value }));

  const prime = (send: (ms: Message[]) => Promise<unknown>, w: Workload) => send(messages(w, 0, w.partitions));

  const connected = async (config: Parameters<Kafka['producer']>[0]): Promise<KafkaJsProducer> => {
    const producer = kafka.producer(config);
    await producer.connect();
    return producer;
  };

  return {
    logged: () => ({ ...logged }),

    async idempotent(w, o) {
      const producer = await connected(producerConfig);
      try {
        const send = (ms: Message[]) => producer.send({ topic: w.topic, acks: -1, messages: ms });
        await prime(send, w);
        const calls = Math.ceil(o.records / o.kafkajsBatch);
        const run = await runWindowed({ total: calls, window: o.kafkajsWindow }, (c) =>
          send(messages(w, c * o.kafkajsBatch, Math.min(o.kafkajsBatch, o.records - c * o.kafkajsBatch))),
        );
        return {
          figures: { recordsPerSec: perSecond(o.records, run.elapsedMs) },
          details: { records: o.records, elapsedMs: round(run.elapsedMs, 1), recordsPerSend: o.kafkajsBatch, sendsInFlight: o.kafkajsWindow, maxInFlightRequests: 1 },
        };
      } finally {
        await producer.disconnect();
      }
    },

    async transactional(w, o, commitEvery) {
      const producer = await connected({ ...producerConfig, transactionalId: `bench-kafkajs-${randomUUID()}`, transactionTimeout: 10_000 });
      try {
        const primer = await producer.transaction();
        await prime((ms) => primer.send({ topic: w.topic, acks: -1, messages: ms }), w);
        await primer.commit();

        const records = o.transactions * commitEvery;
        const durations: number[] = [];
        const started = performance.now();
        for (let first = 0; first < records; first += commitEvery) {
          const began = performance.now();
          const end = first + commitEvery;
          const transaction = await producer.transaction();
          const sends: Promise<unknown>[] = [];
          for (let from = first; from < end; from += o.kafkajsBatch) {
            sends.push(transaction.send({ topic: w.topic, acks: -1, messages: messages(w, from, Math.min(o.kafkajsBatch, end - from)) }));
          }
          await Promise.all(sends);
          await transaction.commit();
          durations.push(performance.now() - began);
        }
        const elapsedMs = performance.now() - started;
        return transactionalResult(records, commitEvery, elapsedMs, durations);
      } finally {
        await producer.disconnect();
      }
    },

    async latency(w, o) {
      const producer = await connected(producerConfig);
      try {
        const send = (ms: Message[]) => producer.send({ topic: w.topic, acks: -1, messages: ms });
        await prime(send, w);
        const run = await runWindowed({ total: o.latencyRecords, window: o.latencyWindow, recordLatency: true }, (i) => send(messages(w, i, 1)));
        return latencyResult(o, run.elapsedMs, run.latenciesMs);
      } finally {
        await producer.disconnect();
      }
    },
  };
}

/** The promise, marked as handled so that a failure while the caller awaits something else first is not an unhandled rejection. */
function settledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function transactionalResult(records: number, commitEvery: number, elapsedMs: number, durationsMs: number[]): CaseResult {
  const transactions = latencySummary(durationsMs);
  return {
    figures: {
      recordsPerSec: perSecond(records, elapsedMs),
      transactionMeanMs: transactions.meanMs,
      transactionP50Ms: transactions.p50Ms,
      transactionP95Ms: transactions.p95Ms,
      transactionP99Ms: transactions.p99Ms,
    },
    details: {
      records,
      commitEvery,
      transactions: durationsMs.length,
      elapsedMs: round(elapsedMs, 1),
      transactionMs: transactions,
      // In order: shows whether slow transactions are periodic, early, or random.
      eachTransactionMs: durationsMs.map((ms) => round(ms, 1)),
    },
  };
}

function latencyResult(o: LatencyOptions, elapsedMs: number, latenciesMs: number[]): CaseResult {
  const summary = latencySummary(latenciesMs);
  return {
    figures: { p50Ms: summary.p50Ms, p95Ms: summary.p95Ms, p99Ms: summary.p99Ms, recordsPerSec: perSecond(o.latencyRecords, elapsedMs) },
    details: { records: o.latencyRecords, sendsInFlight: o.latencyWindow, recordsPerSend: 1, elapsedMs: round(elapsedMs, 1), latency: summary },
  };
}

// ---------------------------------------------------------------------------------------

async function run(options: RawProduceOptions, context: BenchContext): Promise<RepetitionResult> {
  const drivers: Record<ClientName, () => ClientDriver> = {
    confluent: () => confluentDriver(context.brokers),
    kafkajs: () => kafkajsDriver(context.brokers, options.kafkajsInitialRetryMs),
  };
  // Alternate which client goes first, so neither always meets the broker in the same state.
  const order = context.repetition % 2 === 1 ? options.clients : [...options.clients].reverse();
  const cases: { name: string; run: (driver: ClientDriver, w: Workload) => Promise<CaseResult> | undefined }[] = [
    { name: 'idempotent', run: (d, w) => d.idempotent(w, options) },
    ...options.commitEvery.map((n) => ({ name: `txn-every-${n}`, run: (d: ClientDriver, w: Workload) => d.transactional(w, options, n) })),
    ...options.groupCommitWriters.map((window) => ({
      name: `txn-group-${window}`,
      run: (d: ClientDriver, w: Workload) => d.groupCommit?.(w, { records: options.groupCommitRecords, window }),
    })),
    { name: 'latency', run: (d, w) => d.latency(w, options) },
    { name: 'latency-linger0', run: (d, w) => d.latencyWithoutLinger?.(w, options) },
  ];

  const figures: Record<string, number> = {};
  const details: Record<string, unknown> = {};
  for (const c of cases) {
    for (const client of order) {
      const driver = drivers[client]();
      if (c.name === 'latency-linger0' && !driver.latencyWithoutLinger) continue;
      if (c.name.startsWith('txn-group-') && !driver.groupCommit) continue;
      const result = await withFreshTopic(
        context.brokers,
        { prefix: `bench-raw-produce-${client}-${c.name}`, partitions: options.partitions, replicationFactor: options.replicationFactor },
        (topic) => withTimeout(`${client} ${c.name}`, options.caseTimeoutMs, c.run(driver, new Workload(topic, options.partitions, options.recordSize))!),
      );
      for (const [name, value] of Object.entries(result.figures)) figures[`${client}.${c.name}.${name}`] = value;
      const logged = driver.logged?.();
      details[`${client}.${c.name}`] = logged && Object.keys(logged).length > 0 ? { ...result.details, clientLog: logged } : result.details;
      context.log(`${client} ${c.name}: ${Object.entries(result.figures).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
    const [a, b] = clientNames.map((client) => figures[`${client}.${c.name}.recordsPerSec`]);
    if (!c.name.startsWith('latency') && a !== undefined && b !== undefined && b > 0) {
      figures[`confluent-over-kafkajs.${c.name}.throughputRatio`] = round(a / b, 2);
    }
  }
  return { figures, details };
}

export const rawProduce: Scenario<RawProduceOptions> = {
  name: 'raw-produce',
  description: '256-byte records to a fresh topic: idempotent acks=all and transactional throughput, produce latency; Scribe\'s client vs KafkaJS',

  defineOptions(command: Command) {
    command
      .option('--clients <list>', `clients to measure (${clientNames.join(',')})`, clientNames.join(','))
      .option('--records <n>', 'records per idempotent throughput measurement', '200000')
      .option('--record-size <bytes>', 'value size of every record', '256')
      .option('--window <n>', 'Scribe client: sends (one record each) in flight, idempotent throughput', '20000')
      .option('--transactions <n>', 'transactions (of N records each) per transactional measurement', '20')
      .option('--group-commit-writers <list>', 'Scribe client: writers each waiting on the commit of its one record, one measurement per value', '64')
      .option('--group-commit-records <n>', 'records per group-commit measurement', '12000')
      .option('--latency-records <n>', 'records in the latency measurement', '2000')
      .option('--latency-window <n>', 'sends (one record each) in flight in the latency measurement', '8')
      .option('--kafkajs-batch <n>', 'KafkaJS: records per send() call in throughput measurements', '1000')
      .option('--kafkajs-window <n>', 'KafkaJS: send() calls in flight, idempotent throughput', '4')
      .option('--kafkajs-initial-retry-ms <n>', "KafkaJS: retry.initialRetryTime (default: KafkaJS's own, 300 ms)");
    defineShared(command, ['partitions', 'replicationFactor', 'commitEvery', 'caseTimeoutMs'], {
      partitions: { description: 'partitions of each fresh topic' },
      replicationFactor: { description: 'replication factor of each fresh topic' },
      commitEvery: { description: 'transactional: commit every N records, one measurement per N' },
      caseTimeoutMs: { description: 'give up on one measurement after this long' },
    });
  },

  parseOptions(raw) {
    const clients = String(raw.clients)
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0);
    for (const client of clients) {
      if (!(clientNames as readonly string[]).includes(client)) throw new Error(`--clients: unknown client "${client}"; use ${clientNames.join(', ')}`);
    }
    return {
      clients: clients as ClientName[],
      records: positiveInteger('records', raw.records),
      recordSize: positiveInteger('record-size', raw.recordSize),
      ...parseShared(raw, ['partitions', 'replicationFactor', 'commitEvery', 'caseTimeoutMs']),
      window: positiveInteger('window', raw.window),
      transactions: positiveInteger('transactions', raw.transactions),
      groupCommitWriters: positiveIntegers('group-commit-writers', raw.groupCommitWriters),
      groupCommitRecords: positiveInteger('group-commit-records', raw.groupCommitRecords),
      latencyRecords: positiveInteger('latency-records', raw.latencyRecords),
      latencyWindow: positiveInteger('latency-window', raw.latencyWindow),
      kafkajsBatch: positiveInteger('kafkajs-batch', raw.kafkajsBatch),
      kafkajsWindow: positiveInteger('kafkajs-window', raw.kafkajsWindow),
      kafkajsInitialRetryMs: raw.kafkajsInitialRetryMs === undefined ? undefined : positiveInteger('kafkajs-initial-retry-ms', raw.kafkajsInitialRetryMs),
    };
  },

  run,

  versions(): Record<string, string> {
    const kafkajs = packageVersion('kafkajs');
    return kafkajs ? { kafkajs } : {};
  },

  notes(o) {
    return [
      `Every record: ${o.recordSize}-byte value, 11-byte key (stream-0000..0999), explicit partition (round-robin over ${o.partitions}); a fresh topic (RF ${o.replicationFactor}) per measurement.`,
      'confluent = @confluentinc/kafka-javascript through Scribe\'s KafkaProducer (src/kafka/producer.ts): enable.idempotence, acks=all, linger.ms 5, librdkafka defaults otherwise (max.in.flight 5 with idempotence); one send() per record, each resolved by its delivery report.',
      `confluent idempotent throughput: ${o.window} sends in flight. Transactional (both clients): ${o.transactions} transactions of N records each, one at a time: begin, N records, commit; transaction time = begin to commit acknowledged.`,
      `confluent group commit (txn-group-W): W writers each send one record and wait until the transaction holding it has committed, as a Scribe append does; one transactional producer (linger.ms 0) waits one event-loop turn (so that the writers it just answered have sent again), begins a transaction with every record waiting, awaits their delivery reports and commits. ${o.groupCommitRecords} records per measurement; latency from send to commit.`,
      `kafkajs = KafkaJS with idempotent: true, maxInFlightRequests: 1, acks -1. KafkaJS does not batch on its own (each send() is one Produce request), so throughput cases send ${o.kafkajsBatch} records per send() call, ${o.kafkajsWindow} calls in flight for the idempotent case; within a transaction the N records go in ceil(N/${o.kafkajsBatch}) concurrent send() calls.`,
      'kafkajs idempotent mode: its producer serialises Produce requests per broker with a mutex ("Idempotent production requires a mutex lock per broker to serialize requests with sequence number handling", node_modules/kafkajs/src/producer/eosManager/index.js:69, taken in src/producer/sendMessages.js:79), so at most one Produce request is in flight per broker whatever maxInFlightRequests says; its docs require maxInFlightRequests: 1 with idempotent: true for exactly-once transactions (docs/Transactions.md) and call idempotent "Experimental" (docs/Producing.md). maxInFlightRequests is set to 1 in every KafkaJS case here.',
      `kafkajs retry.initialRetryTime: ${o.kafkajsInitialRetryMs === undefined ? "KafkaJS's default (300 ms)" : `${o.kafkajsInitialRetryMs} ms`}. A transaction that starts right after a commit gets CONCURRENT_TRANSACTIONS from AddPartitionsToTxn until the coordinator has written the previous commit's markers; KafkaJS retries after retry.initialRetryTime (node_modules/kafkajs/src/retry/defaults.js), librdkafka after 20 ms (deps/librdkafka/src/rdkafka_txnmgr.c:903 in @confluentinc/kafka-javascript). Retried errors KafkaJS logged (priming included) are counted per measurement under details.*.clientLog.`,
      `latency: time from send() to that record's acknowledgement (acks=all), one record per send, ${o.latencyWindow} sends in flight, ${o.latencyRecords} records, both clients; the confluent client waits up to linger.ms 5 before sending (Scribe's setting), so it is measured again with linger.ms 0 (latency-linger0).`,
      'Before the clock starts each producer is connected, has its producer id (initTransactions / first transaction), and has written one record to every partition (in a committed transaction for transactional cases): the figures are steady state.',
      'Figures are comparable only within one run (same machine, same broker, same moment); ratios between clients in one run are the evidence, absolute numbers move with the machine\'s load.',
    ];
  },

  summarize(medians, o) {
    const lines: string[] = [];
    const figure = (name: string) => medians[name];
    const show = (value: number | undefined, unit: string) => (value === undefined || Number.isNaN(value) ? '-' : `${value.toLocaleString('en-US')} ${unit}`);
    for (const client of o.clients) {
      lines.push(`  ${client}:`);
      lines.push(`    idempotent acks=all       ${show(figure(`${client}.idempotent.recordsPerSec`), 'records/s')}`);
      for (const n of o.commitEvery) {
        lines.push(
          `    transactional, commit/${String(n).padEnd(5)} ${show(figure(`${client}.txn-every-${n}.recordsPerSec`), 'records/s')} (transaction mean ${show(figure(`${client}.txn-every-${n}.transactionMeanMs`), 'ms')}, p50 ${show(figure(`${client}.txn-every-${n}.transactionP50Ms`), 'ms')})`,
        );
      }
      for (const window of o.groupCommitWriters) {
        if (figure(`${client}.txn-group-${window}.recordsPerSec`) === undefined) continue;
        lines.push(
          `    group commit, ${String(window).padEnd(3)} writers ${show(figure(`${client}.txn-group-${window}.recordsPerSec`), 'records/s')} (${show(figure(`${client}.txn-group-${window}.recordsPerTransaction`), 'per transaction')}, p50 ${show(figure(`${client}.txn-group-${window}.p50Ms`), 'ms')}, p99 ${show(figure(`${client}.txn-group-${window}.p99Ms`), 'ms')})`,
        );
      }
      for (const [label, name] of [
        [`latency, ${o.latencyWindow} in flight`, 'latency'],
        ['  same, linger.ms 0', 'latency-linger0'],
      ] as const) {
        if (figure(`${client}.${name}.p50Ms`) === undefined) continue;
        lines.push(
          `    ${label.padEnd(22)} p50 ${show(figure(`${client}.${name}.p50Ms`), 'ms')}, p95 ${show(figure(`${client}.${name}.p95Ms`), 'ms')}, p99 ${show(figure(`${client}.${name}.p99Ms`), 'ms')}`,
        );
      }
    }
    const ratios = Object.entries(medians).filter(([name]) => name.startsWith('confluent-over-kafkajs.'));
    if (ratios.length > 0) {
      lines.push(`  confluent / kafkajs throughput: ${ratios.map(([name, value]) => `${name.split('.')[1]} ${value}x`).join(', ')}`);
    }
    return lines;
  },
};

// ---------------------------------------------------------------------------------------
// For other scenarios: the chosen client's transactional measurement exactly as this scenario
// runs it (a fresh topic, a primed producer, `transactions` transactions of `commitEvery`
// records), so that Scribe's figures can be given as a ratio to raw producing measured in the
// same repetition.

export interface RawTransactionalOptions {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly recordSize: number;
  /** Transactions of `commitEvery` records each. */
  readonly transactions: number;
  readonly caseTimeoutMs: number;
}

/** Figures: recordsPerSec, transactionMeanMs, transactionP50Ms, transactionP95Ms, transactionP99Ms. */
export function measureRawTransactional(brokers: string[], o: RawTransactionalOptions, commitEvery: number): Promise<CaseResult> {
  return withFreshTopic(brokers, { prefix: `bench-raw-txn-${commitEvery}`, partitions: o.partitions, replicationFactor: o.replicationFactor }, (topic) =>
    withTimeout(
      `raw transactional commit/${commitEvery}`,
      o.caseTimeoutMs,
      // kafkajsBatch is a KafkaJS setting; the chosen client ignores it.
      confluentDriver(brokers).transactional(new Workload(topic, o.partitions, o.recordSize), { transactions: o.transactions, kafkajsBatch: 1 }, commitEvery),
    ),
  );
}

/** `records` one-record writes by `window` concurrent writers, each waiting for its own. */
export interface RawWritersOptions {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly recordSize: number;
  readonly records: number;
  /** Writers, each with one record in flight: the concurrency of the scenario compared. */
  readonly window: number;
  readonly caseTimeoutMs: number;
}

/**
 * The chosen client writing as an append does, without Scribe (group commit, one record per
 * writer, acknowledged once committed). Figures: recordsPerSec, p50Ms, p99Ms, recordsPerTransaction.
 */
export function measureRawGroupCommit(brokers: string[], o: RawWritersOptions): Promise<CaseResult> {
  return withFreshTopic(brokers, { prefix: `bench-raw-group-${o.window}`, partitions: o.partitions, replicationFactor: o.replicationFactor }, (topic) =>
    withTimeout(`raw transactional, group commit of ${o.window} writers`, o.caseTimeoutMs, confluentDriver(brokers).groupCommit!(new Workload(topic, o.partitions, o.recordSize), o)),
  );
}

/**
 * raw-produce's latency measurement of the chosen client (idempotent, acks=all, one record per
 * send, `window` sends in flight) on a fresh topic, for the compare scenario's concurrent
 * writers. Figures: p50Ms, p95Ms, p99Ms, recordsPerSec.
 */
export function measureRawIdempotent(brokers: string[], o: RawWritersOptions): Promise<CaseResult> {
  return withFreshTopic(brokers, { prefix: `bench-raw-idem-${o.window}`, partitions: o.partitions, replicationFactor: o.replicationFactor }, (topic) =>
    withTimeout(
      `raw idempotent, ${o.window} in flight`,
      o.caseTimeoutMs,
      confluentDriver(brokers).latency(new Workload(topic, o.partitions, o.recordSize), { latencyRecords: o.records, latencyWindow: o.window }),
    ),
  );
}
