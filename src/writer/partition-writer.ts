// The single writer of one partition of `<store>.events`. It fences every earlier owner
// (a transactional.id per partition), recovers the partition into the index, then applies
// appends in group-committed Kafka transactions: version checks against state it updates
// itself, event-id deduplication, the events, the replies to remote requesters and the
// request offsets, all in one transaction. During growth it also seals shards that leave
// its partition and opens shards that arrive, each in a transaction of its own.
import type { LimitFunction } from 'p-limit';
import { ScribeError } from '../errors.js';
import { KafkaOperationError, KafkaProducer, kafkaError, type KafkaConnection, type KafkaConsumer } from '../kafka/index.js';
import { encodeReply, replyOf } from '../owner-protocol/wire.js';
import { eventHeaders, type EncodedEvent, type StoredEvent } from '../records/event-record.js';
import { snapshotRecordHeaders, type StoredSnapshot } from '../records/snapshot-record.js';
import { partitionForKey } from '../partitioning/murmur2.js';
import type { RoutingLog } from '../partitioning/routing-log.js';
import type { ShardMove } from '../partitioning/routing.js';
import { encodeMarker, encodeMove } from '../partitioning/routing-record.js';
import type { IndexFollower } from '../stream-index/follower.js';
import type { StreamIndex } from '../stream-index/stream-index.js';
import type { AppendResult } from '../streams/event.js';
import {
  AppendAbortedError,
  AppendOutcomeUnknownError,
  EventIdConflictError,
  InvalidEventError,
  OwnershipChangedError,
  WrongExpectedVersionError,
} from '../streams/errors.js';
import { matchesExpectedVersion, type ExpectedVersion } from '../streams/expected-version.js';
import { kafkaErrorCodes } from '../kafka/errors.js';
import { TransactionState } from './transaction-state.js';

/** Where a remote append came from: its reply goes back there, its offset commits with the events. */
export interface RemoteOrigin {
  readonly requester: string;
  readonly requestId: string;
  readonly offset: number;
  readonly deadline: number;
}

/** A stream's state to store with the append, in the same transaction, as of its last event. */
export interface PendingSnapshot {
  readonly snapshotVersion: number;
  readonly state: Buffer;
}

/**
 * A command run at the owner: its events are decided inside the batch, against the stream
 * as the batch leaves it, so commands on one stream follow each other without conflicts.
 */
export interface CommandDecision {
  readonly commandId: string;
  /**
   * Decides against the stream at version `current`. A throw is the command's refusal: it
   * reaches the caller and nothing is written.
   */
  decide(current: number, batch: BatchView): { readonly events: readonly EncodedEvent[]; readonly snapshot?: PendingSnapshot };
}

/** What a command sees of the batch it is decided in. */
export interface BatchView {
  /** Scratch space shared by the batch's commands: state decided earlier in the same batch. */
  readonly decisions: Map<string, unknown>;
  /** An event of a stream as of this point of the batch: written earlier in it, or committed. */
  event(streamId: string, version: number): StoredEvent | undefined;
}

export interface PendingAppend {
  readonly streamId: string;
  readonly partitionKey: string;
  /** Ignored for commands: they are decided against the version they meet. */
  readonly expectedVersion: ExpectedVersion;
  readonly events: readonly EncodedEvent[] | CommandDecision;
  readonly snapshot?: PendingSnapshot;
  readonly remote?: RemoteOrigin;
  resolve(result: AppendResult): void;
  /** A ScribeError, or a command's own refusal as `decide` threw it. */
  reject(error: unknown): void;
}

/** The id of a command's i-th event: a retried command finds its first application by it. */
export function commandEventId(commandId: string, i: number): string {
  return `${commandId}/${i}`;
}

/** Snapshots larger than this are skipped (a compacted topic refuses records over 1 MB by default). */
const maxSnapshotBytes = 900_000;

export interface PartitionWriterOptions {
  readonly connection: KafkaConnection;
  readonly store: string;
  readonly partition: number;
  readonly topics: { readonly events: string; readonly appends: string; readonly replies: string; readonly snapshots: string; readonly routing: string };
  readonly replyPartitions: number;
  readonly index: StreamIndex;
  readonly follower: IndexFollower;
  /** Which streams this partition takes; the writer records its seals and opens in it. */
  readonly routing: RoutingLog;
  /** The writer group's consumer: its group metadata fences offset commits of a zombie (KIP-447). */
  readonly groupConsumer: KafkaConsumer;
  readonly endOffset: (partition: number) => Promise<number>;
  readonly timeoutMs: number;
  readonly transactionTimeoutMs: number;
  /** Bounds the transactions open at once in this process, over all its partitions' writers. */
  readonly transactionSlots: LimitFunction;
  readonly maxBatch: number;
  /** Operational messages: transactions that failed and what the writer did about them. */
  readonly log: (line: string) => void;
  /** Called when the writer gives up after a failure it cannot recover from. */
  readonly onFailure: (partition: number, error: unknown) => void;
}

/** How long `close` waits for a transaction in flight before it lets the producer go. */
const closeGraceMs = 5_000;

/** Waits for `work` to settle, but no longer than `ms`. */
async function settledWithin(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Appends whose transaction was aborted for another append's fault are tried again, this often. */
const maxAttempts = 3;

/** A shard hand-over step this writer commits: sealing a shard that leaves, opening one that arrives. */
type HandOverStep =
  | { readonly kind: 'seal'; readonly generation: number; readonly to: number; readonly remote?: RemoteOrigin; resolve(move: ShardMove): void; reject(error: unknown): void }
  | { readonly kind: 'open'; readonly move: ShardMove };

/** What the drain loop does after a batch: go on, or replace the producer first. */
type AfterBatch = 'continue' | 'reinitialise';

interface Attempt {
  readonly append: PendingAppend;
  readonly attempts: number;
  /**
   * Written in a transaction of its own: the broker refuses a whole record batch when it is
   * over the topic's max.message.bytes, so only an append tried alone can be blamed for it.
   */
  readonly alone?: boolean;
}

/** What became of an append within a transaction; `isolate`: try it again alone. */
interface Outcome {
  readonly result?: AppendResult;
  readonly error?: unknown;
  readonly isolate?: boolean;
}

export class PartitionWriter {
  private readonly state = new TransactionState();
  private queue: Attempt[] = [];
  private handOvers: HandOverStep[] = [];
  /** The highest appends-topic offset committed: commits never move it back. */
  private requestsDone = 0;
  private producer: KafkaProducer | undefined;
  private draining: Promise<void> | undefined;
  private readonly started: Promise<void>;

  constructor(private readonly options: PartitionWriterOptions) {
    this.started = this.start();
  }

  get partition(): number {
    return this.options.partition;
  }

  /** Resolves when the writer accepts appends (or has closed). */
  ready(): Promise<void> {
    return this.started;
  }

  get accepting(): boolean {
    return !this.state.is('closed');
  }

  enqueue(append: PendingAppend): void {
    if (this.state.is('closed')) {
      append.reject(new OwnershipChangedError(this.options.partition, 'this process no longer owns it'));
      return;
    }
    this.queue.push({ append, attempts: 0 });
    this.drain();
  }

  /**
   * Seals the shard of this partition's streams that the growth to generation `generation`
   * moves to partition `to`: a marker ends its history here and the routing log sends its
   * appends there, in one transaction. Sealing a sealed shard answers its first seal.
   */
  async sealShard(generation: number, to: number, remote?: RemoteOrigin): Promise<ShardMove> {
    // Routing must know the generation before the seal, or this writer would go on taking the
    // shard's appends after sealing it. `grow` records the generation before asking.
    const { routing } = this.options;
    if (routing.table.generation < generation) await routing.caughtUp();
    if (routing.table.generation < generation) throw new OwnershipChangedError(this.options.partition, `generation ${generation} is not in the routing log yet`);
    return new Promise((resolve, reject) => {
      if (this.state.is('closed')) {
        reject(new OwnershipChangedError(this.options.partition, 'this process no longer owns it'));
        return;
      }
      this.handOvers.push({ kind: 'seal', generation, to, ...(remote ? { remote } : {}), resolve, reject });
      this.drain();
    });
  }

  /**
   * Opens a shard sealed elsewhere for this partition, once the index holds its history up to
   * the seal. Appends to it are refused (retryably) until then. A failure leaves it sealed;
   * the next writer of this partition opens it.
   */
  openShard(move: ShardMove): void {
    void this.catchUpHistory([{ partition: move.from, offset: move.sealedAt + 1 }, ...this.options.routing.table.historyBefore(move.from, move.generation)])
      .then(() => {
        if (this.state.is('closed')) return;
        this.handOvers.push({ kind: 'open', move });
        this.drain();
      })
      .catch((error: unknown) => this.options.log(`partition ${this.options.partition}: shard ${move.from}->${move.to} not opened: ${String(error)}`));
  }

  /**
   * Gives up the partition: queued appends fail as not stored; a transaction in flight
   * completes or fails on its own. Waits for it only `closeGraceMs`: a producer whose call
   * still runs then is destroyed when it returns (docs/decisions/0007-native-calls.md).
   */
  async close(): Promise<void> {
    this.state.advance('closed');
    this.failQueued(() => new OwnershipChangedError(this.options.partition, 'ownership moved to another process'));
    await settledWithin(closeGraceMs, Promise.all([this.started.catch(() => undefined), this.draining]));
    await this.producer?.disconnect(closeGraceMs);
  }

  private async start(): Promise<void> {
    const { partition, follower } = this.options;
    try {
      const producer = await KafkaProducer.connect({
        ...this.options.connection,
        clientId: `${this.options.connection.clientId ?? 'scribe'}-p${partition}`,
        transactionalId: `${this.options.store}.p${partition}`,
        transactionTimeoutMs: this.options.transactionTimeoutMs,
        // Scribe batches appends itself (group commit): a transaction's records are produced
        // together, and waiting in librdkafka only adds latency.
        overrides: { 'linger.ms': 0 },
      });
      if (this.state.is('closed')) {
        await producer.disconnect();
        return;
      }
      this.producer = producer;
      // Bumps the epoch of `<store>.p<n>`: every earlier owner's producer is fenced and its
      // open transaction aborted before this writer reads the partition's end.
      await this.initTransactions(producer);
      if (!this.state.advance('recovering')) return;
      // After the fence: every seal of an earlier owner is committed or aborted by now.
      const { routing } = this.options;
      await routing.caughtUp();
      await this.catchUpHistory(routing.table.historyBefore(partition));
      const end = await this.options.endOffset(partition);
      follower.follow(partition);
      await follower.caughtUp(partition, end);
      follower.unfollow(partition);
      if (!this.state.advance('ready')) return;
      for (const move of routing.table.currentMoves()) if (move.to === partition && move.state === 'sealed') this.openShard(move);
      this.drain();
    } catch (error) {
      follower.unfollow(partition);
      if (!this.state.advance('closed')) return;
      this.failQueued(() => new OwnershipChangedError(partition, `the writer could not start: ${String(error)}`));
      this.options.onFailure(partition, error);
    }
  }

  /**
   * The coordinator answers CONCURRENT_TRANSACTIONS while it is still completing the previous
   * owner's transaction (writing its markers): wait and ask again, within the writer's bound.
   */
  private async initTransactions(producer: KafkaProducer): Promise<void> {
    const deadline = Date.now() + this.options.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await producer.initTransactions(Math.max(1_000, deadline - Date.now()));
        return;
      } catch (error) {
        const retriable = error instanceof KafkaOperationError && (error.retriable || error.kafkaCode === kafkaErrorCodes.ERR_CONCURRENT_TRANSACTIONS);
        if (!retriable || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, 20 * 2 ** attempt)));
      }
    }
  }

  /** Waits until the index holds these partitions up to these offsets (shards' earlier history). */
  private async catchUpHistory(history: { partition: number; offset: number }[]): Promise<void> {
    const { follower, index } = this.options;
    for (const { partition, offset } of history) {
      if (index.checkpoint(partition) >= offset) continue;
      follower.follow(partition);
      await follower.caughtUp(partition, offset);
    }
  }

  private drain(): void {
    if (this.draining || !this.state.is('ready') || (this.queue.length === 0 && this.handOvers.length === 0)) return;
    this.draining = this.drainLoop().finally(() => {
      this.draining = undefined;
      this.drain();
    });
  }

  private async drainLoop(): Promise<void> {
    while (this.state.is('ready') && (this.queue.length > 0 || this.handOvers.length > 0)) {
      // The batch is taken only once a slot is free, so appends queued meanwhile join it.
      const next = await this.options.transactionSlots(() => this.writeNextBatch());
      // Outside the slot: a new producer and recovery take a while, the other partitions go on.
      if (next === 'reinitialise') await this.reinitialise();
    }
  }

  private async writeNextBatch(): Promise<AfterBatch> {
    if (!this.state.is('ready')) return 'continue';
    const step = this.handOvers.shift();
    if (step) return this.writeHandOver(step);
    if (this.queue.length === 0) return 'continue';
    const batch = this.nextBatch();
    try {
      return await this.writeBatch(batch);
    } catch (error) {
      // A failure outside Kafka's classified errors (the index could not be written, say):
      // the outcome of the batch is not known and this writer cannot be trusted to go on.
      for (const attempt of batch) attempt.append.reject(new AppendOutcomeUnknownError(attempt.append.streamId, String(error), { cause: error }));
      this.state.advance('closed');
      this.failQueued(() => new OwnershipChangedError(this.options.partition, 'the writer failed'));
      this.options.onFailure(this.options.partition, error);
      return 'continue';
    }
  }

  private nextBatch(): Attempt[] {
    if (this.queue[0]!.alone) return this.queue.splice(0, 1);
    const together = this.queue.findIndex((attempt) => attempt.alone);
    return this.queue.splice(0, Math.min(this.options.maxBatch, together < 0 ? this.queue.length : together));
  }

  /** One transaction for the whole batch. */
  private async writeBatch(batch: Attempt[]): Promise<AfterBatch> {
    const producer = this.producer;
    if (!producer) throw new Error('writer is ready without a producer');
    const { partition, topics, index } = this.options;
    this.state.transitionTo('writing');

    const versions = new Map<string, number>();
    const batchIds = new Map<string, { streamId: string; version: number; append: Attempt }>();
    const writes: { attempt: Attempt; events: StoredEvent[]; deliveries: Promise<{ offset: number }>[]; snapshot?: PendingSnapshot }[] = [];
    const settled = new Map<Attempt, Outcome>();
    const followers = new Map<Attempt, Attempt>();
    const inBatch = new Map<string, StoredEvent>();
    const view: BatchView = {
      decisions: new Map(),
      event: (streamId, version) => inBatch.get(`${version}:${streamId}`) ?? index.event(streamId, version),
    };
    const snapshots: StoredSnapshot[] = [];
    const now = Date.now();
    // Until commitTransaction is called, any failure is definite: the transaction is aborted.
    let committing = false;

    try {
      await producer.beginTransaction();
      for (const attempt of batch) {
        const { append } = attempt;
        if (append.remote && append.remote.deadline < now) {
          settled.set(attempt, { error: new AppendOutcomeUnknownError(append.streamId, 'the request reached the owner after its deadline; it was not applied') });
          continue;
        }
        const placement = this.options.routing.table.placement(append.partitionKey);
        if (placement.partition !== partition || placement.opening) {
          const reason = placement.opening ? 'the stream\'s shard is being handed over to this partition' : `the stream's shard moved to partition ${placement.partition}`;
          settled.set(attempt, { error: new OwnershipChangedError(partition, reason) });
          continue;
        }
        const command = isCommand(append.events) ? append.events : undefined;
        const duplicate = command ? this.findAppliedCommand(command.commandId, batchIds) : this.findDuplicate(append.events as readonly EncodedEvent[], append.streamId, batchIds);
        if (duplicate?.follows) {
          followers.set(attempt, duplicate.follows);
          continue;
        }
        if (duplicate) {
          settled.set(attempt, duplicate);
          continue;
        }
        const current = versions.get(append.streamId) ?? index.head(append.streamId);
        let events = append.events as readonly EncodedEvent[];
        let snapshot = append.snapshot;
        if (command) {
          try {
            ({ events, snapshot } = command.decide(current, view));
          } catch (refusal) {
            settled.set(attempt, { error: refusal });
            continue;
          }
          if (events.length === 0) {
            settled.set(attempt, { result: { nextExpectedVersion: current, position: this.positionOf(append.streamId, current) } });
            continue;
          }
        } else if (!matchesExpectedVersion(current, append.expectedVersion)) {
          settled.set(attempt, { error: new WrongExpectedVersionError(append.streamId, append.expectedVersion, current) });
          continue;
        }
        const stored: StoredEvent[] = [];
        const deliveries: Promise<{ offset: number }>[] = [];
        events.forEach((event, i) => {
          const version = current + 1 + i;
          const timestamp = Date.now();
          deliveries.push(
            producer.send({ topic: topics.events, partition, key: append.partitionKey, value: event.data, headers: eventHeaders(append.streamId, version, event) }),
          );
          const storedEvent = { ...event, streamId: append.streamId, version, partition, offset: -1, timestamp };
          stored.push(storedEvent);
          inBatch.set(`${version}:${append.streamId}`, storedEvent);
          batchIds.set(event.id, { streamId: append.streamId, version, append: attempt });
        });
        versions.set(append.streamId, current + events.length);
        writes.push({ attempt, events: stored, deliveries, ...(snapshot && snapshot.state.length <= maxSnapshotBytes ? { snapshot } : {}) });
      }

      // Offsets are known only once the broker has the records; replies carry them.
      const delivered = await Promise.allSettled(writes.map((w) => Promise.all(w.deliveries)));
      const tooLarge = writes.filter((_, i) => {
        const outcome = delivered[i]!;
        return outcome.status === 'rejected' && (outcome.reason as KafkaOperationError).kafkaCode === kafkaErrorCodes.ERR_MSG_SIZE_TOO_LARGE;
      });
      const failed = delivered.find((d) => d.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) {
        for (const w of tooLarge) {
          settled.set(w.attempt, w.attempt.alone ? { error: new InvalidEventError(0, `the append is larger than the events topic accepts (max.message.bytes): ${(failed.reason as Error).message}`) } : { isolate: true });
        }
        throw failed.reason;
      }
      writes.forEach((w, i) => {
        const offsets = (delivered[i] as PromiseFulfilledResult<{ offset: number }[]>).value;
        w.events.forEach((e, j) => Object.assign(e, { offset: offsets[j]!.offset }));
        const last = w.events[w.events.length - 1]!;
        settled.set(w.attempt, { result: { nextExpectedVersion: last.version, position: { partition, offset: String(last.offset) } } });
      });
      for (const [follower, original] of followers) settled.set(follower, settled.get(original)!);

      // In the events' transaction: a snapshot is never visible before the events it folds in.
      for (const w of writes) {
        if (!w.snapshot) continue;
        const last = w.events[w.events.length - 1]!;
        const stored: StoredSnapshot = { streamId: last.streamId, version: last.version, snapshotVersion: w.snapshot.snapshotVersion, state: w.snapshot.state, partition, offset: last.offset, timestamp: Date.now() };
        snapshots.push(stored);
        void producer
          .send({ topic: topics.snapshots, partition, key: last.streamId, value: stored.state, headers: snapshotRecordHeaders(stored) })
          .catch(() => undefined); // a failed snapshot fails the commit below
      }

      const remote = batch.filter((a) => a.append.remote);
      for (const attempt of remote) {
        const outcome = settled.get(attempt)!;
        const origin = attempt.append.remote!;
        const reply = encodeReply(origin.requestId, replyOf(outcome, attempt.append.streamId));
        void producer
          .send({ topic: topics.replies, partition: partitionForKey(origin.requester, this.options.replyPartitions), key: origin.requester, ...reply })
          .catch(() => undefined); // a failed reply fails the commit below
      }
      const requestsDone = remote.length > 0 ? await this.commitRequests(producer, Math.max(...remote.map((a) => a.append.remote!.offset)) + 1) : this.requestsDone;
      committing = true;
      await producer.commitTransaction(this.options.timeoutMs);
      this.requestsDone = requestsDone;
    } catch (error) {
      return this.recoverFromFailure(batch, settled, error, committing);
    }

    // Committed: the index must reflect it before the next batch reads versions from it.
    const committed = writes.flatMap((w) => w.events);
    const lastOffset = committed.length > 0 ? committed[committed.length - 1]!.offset : -1;
    await index.apply(partition, committed, lastOffset + 1, snapshots);
    this.state.advance('ready');
    for (const attempt of batch) {
      const outcome = settled.get(attempt)!;
      if (outcome.error) attempt.append.reject(outcome.error);
      else attempt.append.resolve(outcome.result!);
    }
    return 'continue';
  }

  /**
   * Adds the appends topic's position to the transaction, never below what an earlier commit
   * (a hand-over's, which jumps the queue) recorded; the caller keeps it once committed.
   */
  private async commitRequests(producer: KafkaProducer, next: number): Promise<number> {
    const offset = Math.max(this.requestsDone, next);
    await producer.sendOffsetsToTransaction([{ topic: this.options.topics.appends, partition: this.options.partition, offset }], this.options.groupConsumer, this.options.timeoutMs);
    return offset;
  }

  /**
   * One hand-over step in a transaction of its own: the marker in this partition and the
   * move's new state in the routing log commit together, fenced like any append of this
   * partition, so a zombie owner can neither seal nor open.
   */
  private async writeHandOver(step: HandOverStep): Promise<AfterBatch> {
    const producer = this.producer;
    if (!producer) throw new Error('writer is ready without a producer');
    const { partition, topics, routing } = this.options;
    const [generation, from, to] = step.kind === 'seal' ? [step.generation, partition, step.to] : [step.move.generation, step.move.from, partition];
    const known = routing.table.move(generation, from, to);
    if (step.kind === 'seal' && known) {
      step.resolve(known);
      return 'continue';
    }
    if (step.kind === 'open' && known?.state === 'open') return 'continue';
    this.state.transitionTo('writing');
    let committing = false;
    let requestsDone = this.requestsDone;
    try {
      await producer.beginTransaction();
      const marker = step.kind === 'seal' ? { kind: 'seal' as const, generation, from, to } : { kind: 'open' as const, generation, from, to, sealedAt: step.move.sealedAt };
      const { offset } = await producer.send({ topic: topics.events, partition, ...encodeMarker(marker) });
      const move: ShardMove =
        step.kind === 'seal'
          ? { generation, from, to, state: 'sealed', sealedAt: offset, sealedTime: Date.now() }
          : { ...step.move, state: 'open', openedAt: offset, openedTime: Date.now() };
      void producer.send({ topic: topics.routing, partition: 0, ...encodeMove(move) }).catch(() => undefined); // fails the commit below
      if (step.kind === 'seal' && step.remote) {
        const reply = encodeReply(step.remote.requestId, { ok: true, nextExpectedVersion: -1, partition, offset: String(offset) });
        void producer
          .send({ topic: topics.replies, partition: partitionForKey(step.remote.requester, this.options.replyPartitions), key: step.remote.requester, ...reply })
          .catch(() => undefined);
        requestsDone = await this.commitRequests(producer, step.remote.offset + 1);
      }
      committing = true;
      await producer.commitTransaction(this.options.timeoutMs);
      this.requestsDone = requestsDone;
      await this.options.index.apply(partition, [], offset + 1);
      routing.apply({ kind: 'move', move });
      this.state.advance('ready');
      if (step.kind === 'seal') step.resolve(move);
      this.options.log(`partition ${partition}: shard ${from}->${to} ${move.state} at offset ${offset}`);
      return 'continue';
    } catch (cause) {
      const error = kafkaError('transaction', cause);
      this.options.log(`partition ${partition}: hand-over ${step.kind} ${from}->${to} failed ${committing ? 'in commit' : 'before commit'}: ${error.message}`);
      // A seal is answered "unknown": `grow` asks again and learns the outcome from the routing log.
      if (step.kind === 'seal') step.reject(new OwnershipChangedError(partition, `the seal of shard ${from}->${to} did not complete: ${error.message}`));
      if (error instanceof KafkaOperationError && error.fenced) {
        this.state.advance('closed');
        this.failQueued(() => new OwnershipChangedError(partition, 'this writer was fenced by a newer owner'));
        this.options.onFailure(partition, error);
        return 'continue';
      }
      if (!committing && this.state.advance('aborting')) await producer.abortTransaction(this.options.timeoutMs).catch(() => undefined);
      // A new producer either way (KAFKA-17754); its start re-reads the routing log and opens what is still sealed.
      return 'reinitialise';
    }
  }

  /**
   * Decides what a failed transaction means for each append in it. Nothing of it is
   * visible unless the commit's outcome is unknown; appends rejected for their own fault
   * are answered, the others are tried again.
   */
  private async recoverFromFailure(
    batch: Attempt[],
    settled: Map<Attempt, Outcome>,
    cause: unknown,
    committing: boolean,
  ): Promise<AfterBatch> {
    const error = kafkaError('transaction', cause);
    const classified = error instanceof KafkaOperationError ? error : undefined;
    const definite = !committing || (classified !== undefined && !classified.indefinite && (classified.abortable || classified.fenced));
    this.options.log(
      `partition ${this.options.partition}: transaction of ${batch.length} append(s) failed ${committing ? 'in commit' : 'before commit'} (${definite ? 'not stored' : 'outcome unknown'}): ${error.message}`,
    );
    if (!definite) {
      // KAFKA-17754: a commit that timed out may still land, or a delayed EndTxn may apply to
      // a later transaction. Only a new producer (new epoch) makes the partition safe again.
      for (const attempt of batch) {
        attempt.append.reject(new AppendOutcomeUnknownError(attempt.append.streamId, error.message, { cause: error }));
      }
      return 'reinitialise';
    }
    if (classified?.fenced) {
      // Another process holds `<store>.p<n>` now (or the coordinator timed this transaction
      // out, KIP-588): nothing of this transaction is visible. Re-initialising here would fence
      // the new owner in turn; the writer group decides whether this process still owns it.
      for (const attempt of batch) attempt.append.reject(new OwnershipChangedError(this.options.partition, 'this writer was fenced by a newer owner'));
      this.state.advance('closed');
      this.failQueued(() => new OwnershipChangedError(this.options.partition, 'this writer was fenced by a newer owner'));
      this.options.onFailure(this.options.partition, error);
      return 'continue';
    }
    const stillOwner = this.state.advance('aborting');
    try {
      await this.producer!.abortTransaction(this.options.timeoutMs);
    } catch {
      // Nothing of it was committed; the new producer below fences whatever is left of it.
    }
    const retry: Attempt[] = [];
    for (const attempt of batch) {
      const outcome = settled.get(attempt);
      if (outcome?.error !== undefined && !(outcome.error instanceof ScribeError)) attempt.append.reject(outcome.error); // a command's refusal stands
      else if (outcome?.error instanceof InvalidEventError) attempt.append.reject(outcome.error);
      else if (!stillOwner) attempt.append.reject(new OwnershipChangedError(this.options.partition, 'ownership moved while the transaction was aborted'));
      else if (outcome?.isolate) retry.push({ append: attempt.append, attempts: attempt.attempts, alone: true });
      else if (attempt.attempts + 1 < maxAttempts) retry.push({ append: attempt.append, attempts: attempt.attempts + 1, alone: attempt.alone === true });
      else attempt.append.reject(new AppendAbortedError(attempt.append.streamId, error.message));
    }
    this.queue.unshift(...retry);
    // A producer whose transaction failed is replaced rather than reused: librdkafka was seen
    // to stall after a refused record (later sends timed out), and the new epoch fences any
    // late request of the aborted transaction (KAFKA-17754).
    return 'reinitialise';
  }

  /** A fresh producer with the same transactional.id: new epoch, open transaction aborted, partition re-read. */
  private async reinitialise(): Promise<void> {
    if (!this.state.advance('reinitialising')) return;
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect();
    if (!this.state.advance('starting')) return;
    await this.start();
  }

  /**
   * A retry of an append that was stored answers as the first time; a retry of one that is
   * in this very batch `follows` it and gets its outcome.
   */
  private findDuplicate(
    events: readonly EncodedEvent[],
    streamId: string,
    batchIds: Map<string, { streamId: string; version: number; append: Attempt }>,
  ): { result?: AppendResult; error?: ScribeError; follows?: Attempt } | undefined {
    const { index } = this.options;
    const found = events.map((event) => {
      const inBatch = batchIds.get(event.id);
      if (inBatch) return { streamId: inBatch.streamId, version: inBatch.version, offset: undefined };
      const located = index.locate(event.id);
      return located ? { streamId: located.streamId, version: located.version, offset: located.offset } : undefined;
    });
    const present = found.filter((f) => f !== undefined);
    if (present.length === 0) return undefined;
    const firstId = events[found.findIndex((f) => f !== undefined)]!.id;
    if (present.length !== found.length) {
      return { error: new EventIdConflictError(streamId, firstId, 'some of the append\'s events were stored before, others not') };
    }
    if (present.some((f) => f.streamId !== streamId)) {
      return { error: new EventIdConflictError(streamId, firstId, 'it was stored in another stream') };
    }
    const last = present[present.length - 1]!;
    if (last.offset === undefined) return { follows: batchIds.get(events[0]!.id)!.append };
    // A retry of an append that was stored: answer as the first time.
    return { result: { nextExpectedVersion: last.version, position: { partition: this.options.partition, offset: String(last.offset) } } };
  }

  /** A command applied before (its first event is stored) answers with its first result. */
  private findAppliedCommand(commandId: string, batchIds: Map<string, { append: Attempt }>): { result?: AppendResult; follows?: Attempt } | undefined {
    const first = commandEventId(commandId, 0);
    const inBatch = batchIds.get(first);
    if (inBatch) return { follows: inBatch.append };
    let last = this.options.index.locate(first);
    if (!last) return undefined;
    for (let i = 1; ; i++) {
      const next = this.options.index.locate(commandEventId(commandId, i));
      if (!next) break;
      last = next;
    }
    return { result: { nextExpectedVersion: last.version, position: { partition: last.partition, offset: String(last.offset) } } };
  }

  private positionOf(streamId: string, version: number): AppendResult['position'] {
    const event = version < 0 ? undefined : this.options.index.event(streamId, version);
    return { partition: this.options.partition, offset: String(event?.offset ?? -1) };
  }

  private failQueued(error: () => ScribeError): void {
    const queued = this.queue;
    const handOvers = this.handOvers;
    this.queue = [];
    this.handOvers = [];
    // Remote requests are not answered: their offsets stay uncommitted and the next owner applies them.
    for (const attempt of queued) if (!attempt.append.remote) attempt.append.reject(error());
    for (const step of handOvers) if (step.kind === 'seal' && !step.remote) step.reject(error());
  }
}

function isCommand(events: PendingAppend['events']): events is CommandDecision {
  return !Array.isArray(events);
}
