// What the event-store scenarios share: a fresh store for one repetition (topics and local
// index created for it and removed after it), waiting until this process owns every
// partition, the event payload, the process's memory, and the raw transactional producer
// measured in the same repetition as the reference for Scribe's figures.
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventStore, type ConnectOptions, type KafkaEventStore } from '../src/index.js';
import { KafkaAdmin } from '../src/kafka/index.js';
import { packageRoot } from '../src/local-kafka/home.js';
import { topicNames } from '../src/store/topics.js';
import type { Command } from 'commander';
import { positiveInteger, positiveIntegers } from './scenario.js';
import { measureRawGroupCommit, measureRawTransactional } from './scenarios/raw-produce.js';
import { round } from './stats.js';

export interface FreshStoreSpec {
  /** Start of the store's name; a random suffix makes it fresh. */
  readonly prefix: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Join the writer group and wait until this process owns every partition (the fast path). */
  readonly writer: boolean;
  readonly log: (line: string) => void;
  /** Give up waiting for ownership after this long. */
  readonly ownershipTimeoutMs?: number;
}

export interface FreshStore {
  readonly store: KafkaEventStore;
  readonly name: string;
  /** Connect, plus the wait for ownership of every partition when a writer. */
  readonly readyMs: number;
}

/** A random suffix for store and directory names. */
export function randomSuffix(): string {
  return randomUUID().slice(0, 8);
}

/** The local index of a bench store: `.scribe/bench/<random>`, removed when the store is done. */
export function benchDataDir(): string {
  return join(packageRoot(), '.scribe', 'bench', randomSuffix());
}

/**
 * Connects a new store, runs `body`, then closes it and deletes its topics and local index.
 * `name` may be given when the caller prepared the store's topics before connecting.
 */
export async function withFreshStore<T>(
  brokers: string[],
  spec: FreshStoreSpec & { readonly name?: string; readonly dataDir?: string; readonly connect?: Partial<ConnectOptions> },
  body: (fresh: FreshStore) => Promise<T>,
): Promise<T> {
  const name = spec.name ?? `${spec.prefix}-${randomSuffix()}`;
  const dataDir = spec.dataDir ?? benchDataDir();
  const began = performance.now();
  let store: KafkaEventStore | undefined;
  try {
    store = await EventStore.connect({
      brokers,
      store: name,
      partitions: spec.partitions,
      replicationFactor: spec.replicationFactor,
      writer: spec.writer,
      dataDir,
      clientId: `bench-${name}`,
      log: (line) => spec.log(`store: ${line}`),
      ...spec.connect,
    });
    if (spec.writer) await ownAllPartitions(store, spec.ownershipTimeoutMs ?? 60_000);
    const readyMs = round(performance.now() - began, 1);
    return await body({ store, name, readyMs });
  } finally {
    await store?.close().catch((error: unknown) => spec.log(`closing ${name}: ${String(error)}`));
    await deleteStoreTopics(brokers, name);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Polls until this process owns every partition of the store: each has its transactional writer. */
export async function ownAllPartitions(store: KafkaEventStore, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (store.ownedPartitions.length !== store.partitions) {
    if (Date.now() > deadline) throw new Error(`owned ${store.ownedPartitions.length} of ${store.partitions} partitions after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function deleteStoreTopics(brokers: string[], store: string): Promise<void> {
  const admin = KafkaAdmin.connect({ brokers, clientId: 'bench-admin' });
  try {
    const topics = topicNames(store);
    await Promise.all(Object.values(topics).map((topic) => admin.deleteTopic(topic).catch(() => undefined)));
  } finally {
    admin.disconnect();
  }
}

/** Event data whose JSON encoding is exactly `bytes` long (a string of bytes-2 characters). */
export function payloadOf(bytes: number): string {
  return 'x'.repeat(Math.max(0, bytes - 2));
}

export interface Memory {
  /** process.memoryUsage().rss, MiB. */
  readonly rssMiB: number;
  /** Of the RSS: anonymous memory (heap, native allocations) and mapped files (the LevelDB index's tables, code), from /proc/self/status. */
  readonly rssAnonMiB: number;
  readonly rssFileMiB: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
}

export function memory(): Memory {
  const usage = process.memoryUsage();
  const mib = (bytes: number) => round(bytes / 1024 ** 2, 1);
  const status = (() => {
    try {
      return readFileSync('/proc/self/status', 'utf8');
    } catch {
      return '';
    }
  })();
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return {
    rssMiB: mib(usage.rss),
    rssAnonMiB: round(kib('RssAnon') / 1024, 1),
    rssFileMiB: round(kib('RssFile') / 1024, 1),
    heapUsedMiB: mib(usage.heapUsed),
    externalMiB: mib(usage.external),
  };
}

/**
 * From the positions of appends that each wrote one event, how many transactions carried them:
 * within one partition the events of one transaction sit at consecutive offsets, and each
 * commit marker takes an offset, so a gap in the sorted offsets starts a new transaction.
 * Exact when only these appends wrote the partitions meanwhile and nothing was aborted.
 */
export function transactionsFromOffsets(positions: readonly { partition: number; offset: string }[]): number {
  const byPartition = new Map<number, number[]>();
  for (const { partition, offset } of positions) {
    const list = byPartition.get(partition) ?? [];
    list.push(Number(offset));
    byPartition.set(partition, list);
  }
  let transactions = 0;
  for (const offsets of byPartition.values()) {
    offsets.sort((a, b) => a - b);
    transactions += 1;
    for (let i = 1; i < offsets.length; i++) if (offsets[i]! - offsets[i - 1]! > 1) transactions++;
  }
  return transactions;
}

/** The options every store scenario shares: the fresh store, its events, and the raw reference beside it. */
export interface StoreBenchOptions {
  readonly eventSize: number;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Raw transactional reference: commit every N records, one measurement per N. */
  readonly commitEvery: number[];
  readonly rawTransactions: number;
  readonly caseTimeoutMs: number;
}

export function defineStoreBenchOptions(command: Command): Command {
  return command
    .option('--event-size <bytes>', "size of each event's encoded (JSON) data", '256')
    .option('--partitions <n>', 'partitions of the fresh store', '12')
    .option('--replication-factor <n>', 'replication factor of the fresh store', '1')
    .option('--commit-every <list>', 'raw transactional reference: commit every N records, one measurement per N', '100,1000')
    .option('--raw-transactions <n>', 'raw transactional reference: transactions per measurement', '100')
    .option('--case-timeout-ms <n>', 'give up on one raw measurement after this long', '180000');
}

export function parseStoreBenchOptions(raw: Record<string, unknown>): StoreBenchOptions {
  return {
    eventSize: positiveInteger('event-size', raw.eventSize),
    partitions: positiveInteger('partitions', raw.partitions),
    replicationFactor: positiveInteger('replication-factor', raw.replicationFactor),
    commitEvery: positiveIntegers('commit-every', raw.commitEvery),
    rawTransactions: positiveInteger('raw-transactions', raw.rawTransactions),
    caseTimeoutMs: positiveInteger('case-timeout-ms', raw.caseTimeoutMs),
  };
}

/** The raw reference measured with the scenario's own record size and partitions. */
export function referenceOf(o: StoreBenchOptions, groupCommit?: { readonly writers: number[]; readonly records: number }): RawReferenceOptions {
  return {
    partitions: o.partitions,
    replicationFactor: o.replicationFactor,
    recordSize: o.eventSize,
    commitEvery: o.commitEvery,
    rawTransactions: o.rawTransactions,
    groupCommitWriters: groupCommit?.writers ?? [],
    groupCommitRecords: groupCommit?.records ?? 0,
    caseTimeoutMs: o.caseTimeoutMs,
  };
}

export interface RawReferenceOptions {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly recordSize: number;
  readonly commitEvery: number[];
  readonly rawTransactions: number;
  /** Group commit with this many writers, one measurement per value (none: not measured). */
  readonly groupCommitWriters: number[];
  readonly groupCommitRecords: number;
  readonly caseTimeoutMs: number;
}

/**
 * raw-produce's transactional measurement of the chosen client (bench/scenarios/raw-produce.ts,
 * measureRawTransactional), once per commit size: figures `raw.txn-every-N.*`.
 */
export async function rawTransactionalReference(brokers: string[], o: RawReferenceOptions, log: (line: string) => void): Promise<{ figures: Record<string, number>; details: Record<string, unknown> }> {
  const figures: Record<string, number> = {};
  const details: Record<string, unknown> = {};
  for (const n of o.commitEvery) {
    const result = await measureRawTransactional(
      brokers,
      { partitions: o.partitions, replicationFactor: o.replicationFactor, recordSize: o.recordSize, transactions: o.rawTransactions, caseTimeoutMs: o.caseTimeoutMs },
      n,
    );
    for (const [name, value] of Object.entries(result.figures)) figures[`raw.txn-every-${n}.${name}`] = value;
    details[`raw.txn-every-${n}`] = result.details;
    log(`raw transactional commit/${n}: ${result.figures.recordsPerSec} records/s (transaction p50 ${result.figures.transactionP50Ms} ms)`);
  }
  for (const window of o.groupCommitWriters) {
    const { partitions, replicationFactor, recordSize, caseTimeoutMs } = o;
    const result = await measureRawGroupCommit(brokers, { partitions, replicationFactor, recordSize, records: o.groupCommitRecords, window, caseTimeoutMs });
    for (const [name, value] of Object.entries(result.figures)) figures[`raw.txn-group-${window}.${name}`] = value;
    details[`raw.txn-group-${window}`] = result.details;
    log(
      `raw transactional, group commit of ${window} writers: ${result.figures.recordsPerSec} records/s, ${result.figures.recordsPerTransaction} per transaction, p50 ${result.figures.p50Ms} ms`,
    );
  }
  return { figures, details };
}

/**
 * Scribe's measurement and the raw transactional reference in one repetition, with the
 * reference's figures merged in. Which goes first alternates between repetitions, so that
 * neither always meets the broker in the same state.
 */
export async function besideRawReference(
  context: { brokers: string[]; repetition: number; log: (line: string) => void },
  reference: RawReferenceOptions,
  result: { figures: Record<string, number>; details: Record<string, unknown> },
  scribe: () => Promise<void>,
): Promise<void> {
  const raw = async () => {
    const measured = await rawTransactionalReference(context.brokers, reference, context.log);
    Object.assign(result.figures, measured.figures);
    Object.assign(result.details, measured.details);
  };
  if (context.repetition % 2 === 1) {
    await scribe();
    await raw();
  } else {
    await raw();
    await scribe();
  }
}

/**
 * Adds `<prefix>.overRawTxn<N>Ratio`, Scribe's rate over the raw transactional producer's per
 * commit size, and `<prefix>.overRawGroupRatio` over the group commit of as many writers.
 */
export function ratiosToRaw(figures: Record<string, number>, prefix: string, perSec: number, commitEvery: number[], writers?: number): void {
  for (const n of commitEvery) {
    const raw = figures[`raw.txn-every-${n}.recordsPerSec`];
    if (raw !== undefined && raw > 0) figures[`${prefix}.overRawTxn${n}Ratio`] = round(perSec / raw, 3);
  }
  const group = writers === undefined ? undefined : figures[`raw.txn-group-${writers}.recordsPerSec`];
  if (group !== undefined && group > 0) figures[`${prefix}.overRawGroupRatio`] = round(perSec / group, 3);
}
