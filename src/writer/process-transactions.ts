// The writer process's transactional producers (`<store>.w.<instance>[.<n>]`, a small fixed
// pool) and the transactions they carry: each takes the ready work of the process's partition
// writers, produces it, sends the appends topic's offsets with the writer group's metadata
// (what fences a process that lost its partitions, KIP-447) and commits. Decision 0017 argues
// the fencing.
import type { KafkaConnection, KafkaConsumer } from '../kafka/index.js';
import { OwnershipChangedError } from '../streams/errors.js';
import type { WriterPhase } from './failure-classifier.js';
import { connectProducer, initTransactions, type ProducerFactory, type TransactionalProducer } from './producer-factory.js';

/**
 * What every transaction leaves as the committed offset's metadata: the process's producers.
 * A new owner that finds a transaction still open on its partition fences them by their ids
 * rather than wait for the coordinator to time the transaction out.
 */
export function ownerTag(transactionalId: string, pool: number): string {
  return `scribe-owner ${transactionalId} ${pool}`;
}

/** The transactional ids an owner tag names (none for anything else). */
export function producersOf(tag: string | undefined): string[] {
  const match = /^scribe-owner (\S+) ([1-9]\d?)$/.exec(tag ?? '');
  if (!match) return [];
  const pool = Number(match[2]);
  return pool === 1 ? [match[1]!] : Array.from({ length: pool }, (_, i) => `${match[1]}.${i}`);
}

/** One partition's share of a transaction. */
export interface TransactionPart {
  readonly partition: number;
  /**
   * Carried in a transaction of its own: the broker refuses a whole record batch over the
   * topic's max.message.bytes, so only an append tried alone can be blamed for it, and the
   * other partitions' appends must not be aborted with it again.
   */
  readonly alone?: boolean;
  /** Produces the partition's records and resolves with the appends topic's offset to commit for it. */
  produce(producer: TransactionalProducer): Promise<number>;
  /** Hears each step of the transaction as it is taken: what a failure means depends on it. */
  entered(phase: Extract<WriterPhase, 'begin' | 'produce' | 'send-offsets' | 'commit'>): void;
}

/** A transaction that failed: the step it failed in, and which producer ran it. */
export class TransactionFailure extends Error {
  constructor(
    readonly phase: WriterPhase,
    override readonly cause: unknown,
    readonly producerGeneration: number,
  ) {
    super(`transaction failed in ${phase}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = new.target.name;
  }
}

export interface ProcessTransactionsOptions {
  readonly connection: KafkaConnection;
  /** Stable per process instance, so that a restarted instance fences its former self at once. */
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  readonly timeoutMs: number;
  /** The writer group's consumer: its group metadata goes with every transaction's offsets. */
  readonly groupConsumer: KafkaConsumer;
  readonly appendsTopic: string;
  /** Transactional producers, each running one transaction at a time (default 1). */
  readonly pool?: number;
  readonly producers?: ProducerFactory;
  readonly log: (line: string) => void;
}

interface Waiting {
  readonly part: TransactionPart;
  readonly resolve: (durationMs: number) => void;
  readonly reject: (failure: TransactionFailure) => void;
}

/** One transactional producer of the pool, and the transaction it runs now, if any. */
interface Slot {
  readonly transactionalId: string;
  producer: TransactionalProducer | undefined;
  /** Numbers every producer the pool made: a writer whose transaction failed waits for its successor. */
  generation: number;
  starting: Promise<void> | undefined;
  /** The transaction under way on this producer: its parts, and its end. */
  running: { readonly parts: readonly Waiting[]; readonly ended: Promise<void> } | undefined;
}

/**
 * Runs a transaction on every free producer of the pool while parts wait: the parts handed in
 * while the producers are busy go together in the next transaction (a group commit over
 * partitions). A partition is in at most one transaction at a time: its writer hands in its
 * next part only once the last one has ended. A failed transaction fails every part in it, and
 * its producer is replaced (a new epoch: KAFKA-17754) before its id is used again.
 */
export class ProcessTransactions {
  private readonly slots: Slot[];
  private made = 0;
  private waiting: Waiting[] = [];
  private closed = false;

  /** The committed offsets' metadata of this process's transactions. */
  readonly tag: string;

  constructor(private readonly options: ProcessTransactionsOptions) {
    const size = options.pool ?? 1;
    this.tag = ownerTag(options.transactionalId, size);
    this.slots = Array.from({ length: size }, (_, i) => ({
      transactionalId: size === 1 ? options.transactionalId : `${options.transactionalId}.${i}`,
      producer: undefined,
      generation: 0,
      starting: undefined,
      running: undefined,
    }));
  }

  /** Resolves once every producer of the pool is initialised. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.slotReady(slot)));
  }

  /**
   * Resolves once the producer of `generation`, whose transaction failed, has a successor
   * with the same id (a new epoch: nothing of the failed one can commit any more).
   */
  async replaced(generation: number): Promise<void> {
    const slot = this.slots.find((s) => s.generation === generation);
    if (slot?.producer) await this.replace(slot, generation);
    await this.ready();
  }

  /** Carries the part in the next transaction; resolves with the time from begin to commit. */
  carry(part: TransactionPart): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new TransactionFailure('begin', new OwnershipChangedError(part.partition, 'the writer is closing'), 0));
        return;
      }
      this.waiting.push({ part, resolve, reject });
      this.run();
    });
  }

  /**
   * Resolves once no transaction that carries the partition can still commit: the one in
   * flight has ended, or, past `boundMs`, its producer was replaced (the successor's
   * initTransactions aborts whatever the old one left open). A revoked partition is handed
   * back to the group only after this: the next member's metadata must not cover it.
   */
  async released(partition: number, boundMs: number): Promise<void> {
    this.waiting = this.waiting.filter((w) => {
      if (w.part.partition !== partition) return true;
      w.reject(new TransactionFailure('begin', new OwnershipChangedError(partition, 'ownership moved to another process'), 0));
      return false;
    });
    const slot = this.slots.find((s) => s.running?.parts.some((w) => w.part.partition === partition));
    if (!slot?.running) return;
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([slot.running.ended.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), boundMs)))]);
    clearTimeout(timer);
    if (ended) return;
    this.options.log(`partition ${partition}: a transaction carrying it outlived ${boundMs} ms at revocation; replacing its producer`);
    await this.replaced(slot.generation).catch(() => undefined);
  }

  /**
   * Fences another process's producers (a former owner that left a transaction open): a
   * producer of each id, initialised and let go. Their open transactions are aborted (or,
   * when their commit had reached the coordinator, completed) and they can write no more.
   * A live process so fenced replaces its producers; the group metadata still fences it.
   */
  async fence(tag: string): Promise<void> {
    const ids = producersOf(tag).filter((id) => !this.slots.some((slot) => slot.transactionalId === id));
    await Promise.all(
      ids.map(async (transactionalId) => {
        const producer = await (this.options.producers ?? connectProducer)({ ...this.options.connection, clientId: `${this.options.connection.clientId ?? 'scribe'}-fence`, transactionalId, transactionTimeoutMs: this.options.transactionTimeoutMs });
        try {
          await initTransactions(producer, this.options.timeoutMs);
        } finally {
          await producer.disconnect();
        }
      }),
    );
  }

  /** Lets the producers go; a call still running destroys its producer when it returns. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new TransactionFailure('begin', new OwnershipChangedError(w.part.partition, 'the writer is closing'), 0));
    const running = this.slots.flatMap((slot) => (slot.running ? [slot.running.ended] : []));
    await Promise.race([Promise.all(running), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    await Promise.all(
      this.slots.map(async (slot) => {
        await slot.starting?.catch(() => undefined);
        const producer = slot.producer;
        slot.producer = undefined;
        await producer?.disconnect(timeoutMs);
      }),
    );
  }

  private async slotReady(slot: Slot): Promise<void> {
    while (slot.producer === undefined) {
      if (this.closed) throw new Error('the process transactions are closed');
      slot.starting ??= this.start(slot).finally(() => (slot.starting = undefined));
      await slot.starting;
    }
  }

  private async start(slot: Slot): Promise<void> {
    const { options } = this;
    const producer = await (options.producers ?? connectProducer)({
      ...options.connection,
      clientId: `${options.connection.clientId ?? 'scribe'}-writer`,
      transactionalId: slot.transactionalId,
      transactionTimeoutMs: options.transactionTimeoutMs,
      // Scribe batches appends itself (group commit): waiting in librdkafka only adds latency.
      overrides: { 'linger.ms': 0 },
    });
    try {
      // A new epoch of the id: its former self (a crashed instance, or this producer's
      // predecessor) is fenced and its open transaction aborted.
      await initTransactions(producer, options.timeoutMs);
    } catch (error) {
      await producer.disconnect();
      throw error;
    }
    if (this.closed) {
      await producer.disconnect();
      return;
    }
    slot.producer = producer;
    slot.generation = ++this.made;
  }

  /** Drops the slot's producer of `generation`, if it is still the current one; the next use makes a new one. */
  private async replace(slot: Slot, generation: number): Promise<void> {
    if (generation !== slot.generation || !slot.producer) return;
    const old = slot.producer;
    slot.producer = undefined;
    await old.disconnect();
  }

  /** Starts a transaction on every free producer while parts wait. */
  private run(): void {
    for (const slot of this.slots) {
      if (this.closed || this.waiting.length === 0) return;
      if (slot.running || slot.starting) continue;
      if (!slot.producer) {
        // A producer being replaced: the parts go with another one, or wait for it.
        this.slotReady(slot).then(
          () => this.run(),
          (error: unknown) => {
            for (const w of this.waiting.splice(0)) w.reject(new TransactionFailure('begin', error, slot.generation));
          },
        );
        continue;
      }
      const alone = this.waiting.findIndex((w) => w.part.alone);
      const parts = alone === 0 ? this.waiting.splice(0, 1) : this.waiting.splice(0, alone < 0 ? this.waiting.length : alone);
      const ended = this.transaction(slot, slot.producer, parts).finally(() => {
        slot.running = undefined;
        this.run();
      });
      slot.running = { parts, ended };
    }
  }

  private async transaction(slot: Slot, producer: TransactionalProducer, parts: readonly Waiting[]): Promise<void> {
    const generation = slot.generation;
    type Step = 'begin' | 'produce' | 'send-offsets' | 'commit';
    let phase = 'begin' as Step;
    const enter = (next: Step) => {
      phase = next;
      for (const w of parts) w.part.entered(next);
    };
    const began = performance.now();
    try {
      enter('begin');
      await producer.beginTransaction();
      enter('produce');
      // Every part's records are delivered before the offsets go: a process frozen after the
      // offset send has its records in the log, where a new owner's read waits for them.
      const produced = await Promise.allSettled(parts.map((w) => w.part.produce(producer)));
      const refused = produced.find((p): p is PromiseRejectedResult => p.status === 'rejected');
      if (refused) throw refused.reason;
      const offsets = produced.map((p, i) => ({ topic: this.options.appendsTopic, partition: parts[i]!.part.partition, offset: (p as PromiseFulfilledResult<number>).value, metadata: this.tag }));
      enter('send-offsets');
      await producer.sendOffsetsToTransaction(offsets, this.options.groupConsumer, this.options.timeoutMs);
      enter('commit');
      await producer.commitTransaction(this.options.timeoutMs);
    } catch (cause) {
      const failure = new TransactionFailure(phase, cause, generation);
      if (phase !== 'commit') await this.abort(producer);
      // Never reused after a failure: librdkafka was seen to stall after a refused record, and
      // only a new epoch rules out a delayed EndTxn applying to a later transaction (KAFKA-17754).
      await this.replace(slot, generation);
      for (const w of parts) w.reject(failure);
      return;
    }
    const durationMs = performance.now() - began;
    for (const w of parts) w.resolve(durationMs);
  }

  private async abort(producer: TransactionalProducer): Promise<void> {
    try {
      await producer.abortTransaction(this.options.timeoutMs);
    } catch (error) {
      // Nothing of it was committed; the next producer's initTransactions aborts what is left.
      this.options.log(`writer: abort failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
