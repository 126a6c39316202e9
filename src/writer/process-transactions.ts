// The writer process's one transactional producer (`<store>.w.<instance>`) and the
// transactions it carries: each takes the ready work of every partition writer of the process,
// produces it, sends the appends topic's offsets with the writer group's metadata (what fences
// a process that lost its partitions, KIP-447) and commits. Decision 0017 argues the fencing.
import type { KafkaConnection, KafkaConsumer } from '../kafka/index.js';
import { OwnershipChangedError } from '../streams/errors.js';
import type { WriterPhase } from './failure-classifier.js';
import { connectProducer, initTransactions, type ProducerFactory, type TransactionalProducer } from './producer-factory.js';

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
  /** Transactional producers taking turns (default 1). */
  readonly pool?: number;
  readonly producers?: ProducerFactory;
  readonly log: (line: string) => void;
}

interface Waiting {
  readonly part: TransactionPart;
  readonly resolve: (durationMs: number) => void;
  readonly reject: (failure: TransactionFailure) => void;
}

/** One transactional producer of the pool, and which producer of its id it is. */
interface Slot {
  readonly transactionalId: string;
  producer: TransactionalProducer | undefined;
  /** Numbers every producer the pool made: a writer whose transaction failed waits for a newer one. */
  generation: number;
  starting: Promise<void> | undefined;
}

/**
 * Runs one transaction at a time: the parts submitted while one is under way wait and go
 * together in the next (a group commit over partitions). Transactions take the pool's
 * producers in turn: the coordinator answers CONCURRENT_TRANSACTIONS to a producer whose last
 * commit's markers it is still writing, and librdkafka then waits 20 ms; the other producer's
 * id is free. A failed transaction fails every part in it, and its producer is replaced (a new
 * epoch: KAFKA-17754) before that id is used again.
 */
export class ProcessTransactions {
  private readonly slots: Slot[];
  private turn = 0;
  private made = 0;
  private waiting: Waiting[] = [];
  private current: readonly Waiting[] = [];
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: ProcessTransactionsOptions) {
    const size = options.pool ?? 1;
    this.slots = Array.from({ length: size }, (_, i) => ({ transactionalId: size === 1 ? options.transactionalId : `${options.transactionalId}.${i}`, producer: undefined, generation: 0, starting: undefined }));
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
    if (!this.current.some((w) => w.part.partition === partition) || !this.running) return;
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([this.running.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), boundMs)))]);
    clearTimeout(timer);
    if (ended) return;
    this.options.log(`partition ${partition}: a transaction carrying it outlived ${boundMs} ms at revocation; replacing its producer`);
    const slot = this.slots[this.inFlightSlot]!;
    await this.replaced(slot.generation).catch(() => undefined);
  }

  /** Lets the producers go; a call still running destroys its producer when it returns. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new TransactionFailure('begin', new OwnershipChangedError(w.part.partition, 'the writer is closing'), 0));
    if (this.running) await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    await Promise.all(
      this.slots.map(async (slot) => {
        await slot.starting?.catch(() => undefined);
        const producer = slot.producer;
        slot.producer = undefined;
        await producer?.disconnect(timeoutMs);
      }),
    );
  }

  private inFlightSlot = 0;

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

  private run(): void {
    if (this.running || this.waiting.length === 0 || this.closed) return;
    this.running = this.transaction().finally(() => {
      this.running = undefined;
      this.run();
    });
  }

  private async transaction(): Promise<void> {
    const at = this.turn;
    this.turn = (this.turn + 1) % this.slots.length;
    const slot = this.slots[at]!;
    try {
      await this.slotReady(slot);
    } catch (error) {
      for (const w of this.waiting.splice(0)) w.reject(new TransactionFailure('begin', error, slot.generation));
      return;
    }
    const generation = slot.generation;
    this.inFlightSlot = at;
    const alone = this.waiting.findIndex((w) => w.part.alone);
    const parts = (this.current = alone === 0 ? this.waiting.splice(0, 1) : this.waiting.splice(0, alone < 0 ? this.waiting.length : alone));
    if (parts.length === 0) return;
    const producer = slot.producer!;
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
      const offsets = produced.map((p, i) => ({ topic: this.options.appendsTopic, partition: parts[i]!.part.partition, offset: (p as PromiseFulfilledResult<number>).value }));
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
      this.current = [];
      for (const w of parts) w.reject(failure);
      return;
    }
    this.current = [];
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
