// The single writer of one partition of `<store>.events`. It fences every earlier owner (a
// transactional.id per partition), recovers the partition into the index, then lets the append
// rules (src/appends/) decide each group-committed batch and writes what they decide in one
// Kafka transaction: the events, snapshots, replies to remote requesters and the request
// offsets. During growth it also seals shards that leave its partition and opens shards that
// arrive (hand-over.ts). Its lifecycle is writer-state.ts; failure-classifier.ts decides what
// every failure means.
import type { LimitFunction } from 'p-limit';
import { decideBatch } from '../appends/append-batch.js';
import type { StoreEvent } from '../instrumentation/store-events.js';
import { kafkaError, type KafkaConnection, type KafkaConsumer } from '../kafka/index.js';
import type { RoutingLog } from '../partitioning/routing-log.js';
import type { ShardMove } from '../partitioning/routing.js';
import type { IndexFollower } from '../stream-index/follower.js';
import type { StreamIndex } from '../stream-index/stream-index.js';
import { OwnershipChangedError, WriterFailedError, type WrongExpectedVersionError } from '../streams/errors.js';
import { answerFailedBatch, delivered, failBatch, produceEvents, produceReplies, refusedBeforeDeciding, settle, type Attempt, type Outcome, type Write } from './batch-records.js';
import { classifyFailure, type FailureDecision, type WriterPhase } from './failure-classifier.js';
import { moveOf, offsetOf, produceHandOver, type HandOverStep } from './hand-over.js';
import type { PendingAppend, RemoteOrigin } from '../appends/pending-append.js';
import { connectProducer, initTransactions, type ProducerFactory, type TransactionalProducer } from './producer-factory.js';
import { WriterInvariantError, WriterLifecycle } from './writer-state.js';

export type { PendingAppend, RemoteOrigin } from '../appends/pending-append.js';

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
  /** Creates the writer's producer, again for each re-initialisation (default: KafkaProducer.connect). */
  readonly producers?: ProducerFactory;
  /** Operational messages: transactions that failed and what the writer did about them. */
  readonly log: (line: string) => void;
  /** The writer's work as typed events: batches committed and aborted, producers replaced, state changes, conflicts. */
  readonly instrument?: (event: StoreEvent) => void;
  /** Called when the writer gives up (fenced, could not start, failed): the writer group decides what next. */
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

/** What the drain loop does after a batch: go on, or replace the producer first. */
type AfterBatch = 'continue' | 'reinitialise';

/** A failure as the writer reports it: Kafka's classified, Scribe's own as it was thrown. */
function described(decision: FailureDecision, cause: unknown): { error: unknown; message: string } {
  const error = decision === 'failed' ? cause : kafkaError('transaction', cause);
  return { error, message: error instanceof Error ? error.message : String(error) };
}

/** The failures after which a writer stops for good. */
type GiveUp = Extract<FailureDecision, 'fenced-give-up' | 'unavailable-give-up' | 'failed'>;

const noInstrument = (): void => undefined;

export class PartitionWriter {
  private readonly lifecycle: WriterLifecycle;
  private readonly instrument: (event: StoreEvent) => void;
  private queue: Attempt[] = [];
  private handOvers: HandOverStep[] = [];
  /** The highest appends-topic offset committed: commits never move it back. */
  private requestsDone = 0;
  private producer: TransactionalProducer | undefined;
  private draining: Promise<void> | undefined;
  /** The transaction being written, until its appends are in the index (whatever its outcome). */
  private inFlight: Promise<unknown> | undefined;
  private readonly started: Promise<void>;
  /** The step of the writer's work under way: what a failure means depends on it. */
  private phase: WriterPhase = 'connect';
  /** Why the producer is being replaced, reported once the new one has fenced the old one. */
  private replacing: string | undefined;

  constructor(private readonly options: PartitionWriterOptions) {
    const { instrument } = options;
    this.instrument = instrument ?? noInstrument;
    // Without a listener, a state move (three per batch) costs no event object.
    this.lifecycle = new WriterLifecycle(instrument ? (from, to) => instrument({ type: 'writer-state-changed', partition: options.partition, from, to }) : noInstrument);
    this.started = this.start();
  }

  get partition(): number {
    return this.options.partition;
  }

  /** Resolves when the writer accepts appends (or has stopped). */
  ready(): Promise<void> {
    return this.started;
  }

  /**
   * Resolves once the transaction in flight now, if any, is in the index: an append another
   * process saw acknowledged (its reply commits with it) is then readable here.
   */
  settled(): Promise<void> {
    return this.inFlight ? this.inFlight.then(() => undefined, () => undefined) : Promise.resolve();
  }

  get accepting(): boolean {
    return !this.lifecycle.stopped;
  }

  enqueue(append: PendingAppend): void {
    if (this.lifecycle.stopped) {
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
      if (this.lifecycle.stopped) {
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
        if (this.lifecycle.stopped) return;
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
    this.lifecycle.transitionTo('closed');
    this.failQueued(() => new OwnershipChangedError(this.options.partition, 'ownership moved to another process'));
    await settledWithin(closeGraceMs, Promise.all([this.started.catch(() => undefined), this.draining]));
    await this.producer?.disconnect(closeGraceMs);
  }

  private async start(): Promise<void> {
    const { partition, follower } = this.options;
    this.phase = 'connect';
    try {
      const producer = await (this.options.producers ?? connectProducer)({
        ...this.options.connection,
        clientId: `${this.options.connection.clientId ?? 'scribe'}-p${partition}`,
        transactionalId: `${this.options.store}.p${partition}`,
        transactionTimeoutMs: this.options.transactionTimeoutMs,
        // Scribe batches appends itself (group commit): a transaction's records are produced
        // together, and waiting in librdkafka only adds latency.
        overrides: { 'linger.ms': 0 },
      });
      if (this.lifecycle.stopped) {
        await producer.disconnect();
        return;
      }
      this.producer = producer;
      // Bumps the epoch of `<store>.p<n>`: every earlier owner's producer is fenced and its
      // open transaction aborted before this writer reads the partition's end.
      this.phase = 'init';
      await initTransactions(producer, this.options.timeoutMs);
      if (this.replacing !== undefined) this.instrument({ type: 'producer-reinitialised', partition, reason: this.replacing });
      this.replacing = undefined;
      if (!this.lifecycle.transitionTo('recovering')) return;
      // After the fence: every seal of an earlier owner is committed or aborted by now.
      this.phase = 'recover';
      const { routing } = this.options;
      await routing.caughtUp();
      await this.catchUpHistory(routing.table.historyBefore(partition));
      const end = await this.options.endOffset(partition);
      follower.follow(partition);
      await follower.caughtUp(partition, end);
      follower.unfollow(partition);
      if (!this.lifecycle.transitionTo('ready')) return;
      for (const move of routing.table.currentMoves()) if (move.to === partition && move.state === 'sealed') this.openShard(move);
      this.drain();
    } catch (error) {
      follower.unfollow(partition);
      const decision = classifyFailure(error, this.phase);
      this.giveUp(decision === 'fenced-give-up' || decision === 'failed' ? decision : 'unavailable-give-up', error);
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
    if (this.draining || !this.lifecycle.is('ready') || (this.queue.length === 0 && this.handOvers.length === 0)) return;
    this.draining = this.drainLoop().finally(() => {
      this.draining = undefined;
      this.drain();
    });
  }

  private async drainLoop(): Promise<void> {
    while (this.lifecycle.is('ready') && (this.queue.length > 0 || this.handOvers.length > 0)) {
      // The batch is taken only once a slot is free, so appends queued meanwhile join it.
      const next = await this.options.transactionSlots(() => {
        const written = this.writeNextBatch();
        this.inFlight = written;
        return written.finally(() => {
          if (this.inFlight === written) this.inFlight = undefined;
        });
      });
      // Outside the slot: a new producer and recovery take a while, the other partitions go on.
      if (next === 'reinitialise') await this.reinitialise();
    }
  }

  private async writeNextBatch(): Promise<AfterBatch> {
    if (!this.lifecycle.is('ready')) return 'continue';
    const step = this.handOvers.shift();
    const batch = step || this.queue.length === 0 ? undefined : this.nextBatch();
    try {
      if (step) return await this.writeHandOver(step);
      return batch ? await this.writeBatch(batch) : 'continue';
    } catch (error) {
      // Only a bug in the failure handling itself gets here: the writer cannot be trusted to go on.
      if (batch) failBatch(batch, error, this.options.partition, this.phase === 'commit' || this.phase === 'apply');
      if (step?.kind === 'seal') step.reject(new WriterFailedError(this.options.partition, { cause: error }));
      this.giveUp('failed', error);
      return 'continue';
    }
  }

  private nextBatch(): Attempt[] {
    if (this.queue[0]!.alone) return this.queue.splice(0, 1);
    const together = this.queue.findIndex((attempt) => attempt.alone);
    return this.queue.splice(0, Math.min(this.options.maxBatch, together < 0 ? this.queue.length : together));
  }

  /** One transaction for the whole batch: the append rules decide, this writes what they decided. */
  private async writeBatch(batch: Attempt[]): Promise<AfterBatch> {
    const { partition, topics, index } = this.options;
    const now = Date.now();
    const outcomes = new Array<Outcome>(batch.length);
    // Kafka's own checks come first: a request past its deadline, a shard not (yet) here.
    const intents: PendingAppend[] = [];
    const places: number[] = [];
    let remote = false;
    for (let i = 0; i < batch.length; i++) {
      const { append } = batch[i]!;
      remote ||= append.remote !== undefined;
      const refusal = refusedBeforeDeciding(append, now, partition, this.options.routing.table);
      if (refusal) outcomes[i] = { error: refusal };
      else intents.push(append), places.push(i);
    }

    this.phase = 'decide';
    try {
      const decisions = decideBatch(index, partition, intents, now);
      const writes: Write[] = [];
      const followers: number[] = [];
      for (let j = 0; j < decisions.length; j++) {
        const decision = decisions[j]!;
        const at = places[j]!;
        if (decision.kind === 'write') writes.push({ at, decision, deliveries: [] });
        else if (decision.kind === 'follow') followers.push(at, places[decision.of]!);
        else outcomes[at] = decision.kind === 'answer' ? { result: decision.result } : { error: decision.error };
      }
      // Nothing to write and no reply to commit: librdkafka would not send an EndTxn either.
      if (writes.length === 0 && !remote) {
        this.settle(batch, outcomes);
        return 'continue';
      }

      let stored: Awaited<ReturnType<typeof delivered>> | undefined;
      const durationMs = await this.transaction(
        async (producer) => {
          produceEvents(producer, writes, batch, topics.events, partition);
          // Offsets are known only once the broker has the records; replies carry them.
          stored = await delivered(producer, writes, batch, outcomes, topics, partition, now);
          for (let f = 0; f < followers.length; f += 2) outcomes[followers[f]!] = outcomes[followers[f + 1]!]!;
          return remote ? produceReplies(producer, batch, outcomes, topics.replies, this.options.replyPartitions) : undefined;
        },
        // Committed: the index must reflect it before the next batch reads versions from it.
        () => index.apply(partition, stored!.committed, (stored!.committed.at(-1)?.offset ?? -1) + 1, stored!.snapshots),
      );
      if (this.options.instrument) this.instrument({ type: 'batch-committed', partition, appends: batch.length, events: stored!.committed.length, bytes: stored!.bytes, durationMs });
    } catch (error) {
      return this.batchFailed(batch, outcomes, error);
    }
    this.settle(batch, outcomes);
    return 'continue';
  }

  private settle(batch: readonly Attempt[], outcomes: readonly Outcome[]): void {
    settle(batch, outcomes, (error) => this.conflict(error));
  }

  private conflict(error: WrongExpectedVersionError): void {
    this.instrument({ type: 'conflict', streamId: error.streamId, partition: this.options.partition, expected: String(error.expected), actual: error.actual });
  }

  /**
   * What a failed transaction means for each append in it (failure-classifier.ts decides).
   * Nothing of it is visible unless a commit was asked for; appends refused for their own
   * fault are answered, the others are tried again in a new transaction.
   */
  private async batchFailed(batch: Attempt[], outcomes: Outcome[], cause: unknown): Promise<AfterBatch> {
    const { partition } = this.options;
    const phase = this.phase;
    const decision = classifyFailure(cause, phase);
    const { error, message } = described(decision, cause);
    const asked = phase === 'commit' || phase === 'apply';
    const fate = decision === 'outcome-unknown-reinitialise' || (decision === 'failed' && phase === 'commit') ? 'outcome unknown' : decision === 'failed' && phase === 'apply' ? 'committed' : 'not stored';
    this.options.log(`partition ${partition}: transaction of ${batch.length} append(s) failed ${asked ? 'in commit' : 'before commit'} (${fate}): ${message}`);
    if (fate !== 'committed') {
      const outcome = decision === 'fenced-give-up' ? 'fenced' : fate === 'outcome unknown' ? 'unknown' : 'not-stored';
      this.instrument({ type: 'batch-aborted', partition, appends: batch.length, outcome, reason: message });
    }
    const onConflict = (conflict: WrongExpectedVersionError) => this.conflict(conflict);
    this.queue.unshift(...answerFailedBatch(batch, outcomes, { decision, phase, error, message }, partition, !this.lifecycle.stopped, onConflict));
    return this.afterFailure(decision, error, `a transaction of ${batch.length} append(s) failed: ${message}`);
  }

  /**
   * What the writer does once a failed transaction's appends are answered: stop, or abort and
   * replace the producer. A producer whose transaction failed is never reused: librdkafka was
   * seen to stall after a refused record, and KAFKA-17754 (a delayed EndTxn applying to a later
   * transaction) is only ruled out by a new epoch. A fenced writer does not re-initialise: that
   * would fence the new owner in turn (or, after a coordinator-side timeout, KIP-588, the
   * writer group finds the partition still assigned here and starts a new writer).
   */
  private async afterFailure(decision: FailureDecision, cause: unknown, reason: string): Promise<AfterBatch> {
    if (decision === 'fenced-give-up' || decision === 'failed' || decision === 'unavailable-give-up') {
      this.giveUp(decision, cause);
      return 'continue';
    }
    if (decision === 'retry-in-new-transaction') {
      this.lifecycle.transitionTo('abortable');
      await this.abort();
    }
    this.replacing = reason;
    return 'reinitialise';
  }

  /** Aborts the open transaction; only a fence or a bug stops the writer here. */
  private async abort(): Promise<void> {
    this.phase = 'abort';
    try {
      await this.producer?.abortTransaction(this.options.timeoutMs);
    } catch (error) {
      // Nothing of it was committed; the new producer fences whatever is left of it.
      const decision = classifyFailure(error, 'abort');
      if (decision === 'fenced-give-up' || decision === 'failed') this.giveUp(decision, error);
    }
  }

  /**
   * Runs one transaction. `produce` puts its records in and names the appends topic's offset
   * to commit with them, if any (never below what an earlier commit recorded: a hand-over's
   * jumps the queue); `apply` takes the committed transaction into the index. Each step sets
   * `phase`, by which a failure is classified. Resolves with the time from begin to commit.
   */
  private async transaction(produce: (producer: TransactionalProducer) => Promise<number | undefined>, apply: () => Promise<void>): Promise<number> {
    const producer = this.producer;
    if (!producer) throw new WriterInvariantError('the writer is ready without a producer');
    this.lifecycle.transitionTo('in-transaction');
    this.phase = 'begin';
    const began = performance.now();
    await producer.beginTransaction();
    this.phase = 'produce';
    const request = await produce(producer);
    const requestsDone = request === undefined ? this.requestsDone : Math.max(this.requestsDone, request);
    if (request !== undefined) {
      this.phase = 'send-offsets';
      const { appends } = this.options.topics;
      await producer.sendOffsetsToTransaction([{ topic: appends, partition: this.options.partition, offset: requestsDone }], this.options.groupConsumer, this.options.timeoutMs);
    }
    this.lifecycle.transitionTo('committing');
    this.phase = 'commit';
    await producer.commitTransaction(this.options.timeoutMs);
    this.requestsDone = requestsDone;
    const durationMs = performance.now() - began;
    this.phase = 'apply';
    await apply();
    this.lifecycle.transitionTo('ready');
    return durationMs;
  }

  /** One hand-over step in a transaction of its own (hand-over.ts). */
  private async writeHandOver(step: HandOverStep): Promise<AfterBatch> {
    const { partition, topics, routing } = this.options;
    const { generation, from, to } = moveOf(step, partition);
    const known = routing.table.move(generation, from, to);
    if (step.kind === 'seal' && known) {
      step.resolve(known);
      return 'continue';
    }
    if (step.kind === 'open' && known?.state === 'open') return 'continue';
    try {
      let move: ShardMove | undefined;
      await this.transaction(
        async (producer) => {
          move = await produceHandOver(producer, step, partition, topics, this.options.replyPartitions);
          return step.kind === 'seal' && step.remote ? step.remote.offset + 1 : undefined;
        },
        async () => {
          await this.options.index.apply(partition, [], offsetOf(move!) + 1);
          routing.apply({ kind: 'move', move: move! });
        },
      );
      if (step.kind === 'seal') step.resolve(move!);
      this.options.log(`partition ${partition}: shard ${from}->${to} ${move!.state} at offset ${offsetOf(move!)}`);
      return 'continue';
    } catch (cause) {
      const phase = this.phase;
      const decision = classifyFailure(cause, phase);
      const { error, message } = described(decision, cause);
      this.options.log(`partition ${partition}: hand-over ${step.kind} ${from}->${to} failed ${phase === 'commit' || phase === 'apply' ? 'in commit' : 'before commit'}: ${message}`);
      // A seal is answered "unknown": `grow` asks again and learns the outcome from the routing log.
      if (step.kind === 'seal') step.reject(new OwnershipChangedError(partition, `the seal of shard ${from}->${to} did not complete: ${message}`));
      // A new producer unless it stops (KAFKA-17754); its start re-reads the routing log and opens what is still sealed.
      return this.afterFailure(decision, error, `a hand-over's transaction failed: ${message}`);
    }
  }

  /** A fresh producer with the same transactional.id: new epoch, open transaction aborted, partition re-read. */
  private async reinitialise(): Promise<void> {
    if (!this.lifecycle.transitionTo('reinitialising')) return;
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect();
    if (!this.lifecycle.transitionTo('starting')) return;
    await this.start();
  }

  /**
   * The one way a writer stops for good other than close(): fenced, could not start, or failed.
   * Queued appends are answered (remote ones are left to the next owner); the writer group decides.
   */
  private giveUp(decision: GiveUp, cause: unknown): void {
    const { partition } = this.options;
    if (!this.lifecycle.transitionTo(decision === 'fenced-give-up' ? 'fenced' : 'failed')) return;
    if (decision === 'fenced-give-up') this.failQueued(() => new OwnershipChangedError(partition, 'this writer was fenced by a newer owner'));
    else if (decision === 'failed') this.failQueued(() => new WriterFailedError(partition, { cause }));
    else this.failQueued(() => new OwnershipChangedError(partition, `the writer could not start: ${String(cause)}`));
    this.options.onFailure(partition, cause);
  }

  private failQueued(error: () => Error): void {
    const queued = this.queue;
    const handOvers = this.handOvers;
    this.queue = [];
    this.handOvers = [];
    // Remote requests are not answered: their offsets stay uncommitted and the next owner applies them.
    for (const attempt of queued) if (!attempt.append.remote) attempt.append.reject(error());
    for (const step of handOvers) if (step.kind === 'seal' && !step.remote) step.reject(error());
  }
}
