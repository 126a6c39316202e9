// The writer process's one transactional producer (`<store>.w.<instance>`) and the
// transactions it carries: each takes the ready work of every partition writer of the process,
// produces it, sends the appends topic's offsets with the writer group's metadata (what fences
// a process that lost its partitions, KIP-447) and commits. Decision 0017 argues the fencing.
import type { KafkaConnection, KafkaConsumer } from '../kafka/index.js';
import { WriterInvariantError } from './writer-state.js';
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
  readonly producers?: ProducerFactory;
  readonly log: (line: string) => void;
}

interface Waiting {
  readonly part: TransactionPart;
  readonly resolve: (durationMs: number) => void;
  readonly reject: (failure: TransactionFailure) => void;
}

/**
 * Runs one transaction at a time: the parts submitted while one is under way wait and go
 * together in the next (a group commit over partitions). A failed transaction fails every
 * part in it, and the producer is replaced once (a new epoch: KAFKA-17754) before the next.
 */
export class ProcessTransactions {
  private producer: TransactionalProducer | undefined;
  /** Counts producers: a writer whose transaction failed waits for a newer one. */
  private generation = 0;
  private starting: Promise<void> | undefined;
  private waiting: Waiting[] = [];
  private current: readonly Waiting[] = [];
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: ProcessTransactionsOptions) {}

  /** Resolves with the generation of an initialised producer newer than `after`. */
  async ready(after = 0): Promise<number> {
    while (!this.closed && (this.producer === undefined || this.generation <= after)) {
      this.starting ??= this.start().finally(() => (this.starting = undefined));
      await this.starting;
    }
    if (this.closed) throw new WriterInvariantError('the process transactions are closed');
    return this.generation;
  }

  /** Carries the part in the next transaction; resolves with the time from begin to commit. */
  carry(part: TransactionPart): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new TransactionFailure('begin', new WriterInvariantError('the process transactions are closed'), this.generation));
        return;
      }
      this.waiting.push({ part, resolve, reject });
      this.run();
    });
  }

  /**
   * Resolves once no transaction that carries the partition can still commit: the one in
   * flight has ended, or, past `boundMs`, the producer was replaced (its successor's
   * initTransactions aborts whatever the old one left open). A revoked partition is handed
   * back to the group only after this: the next member's metadata must not cover it.
   */
  async released(partition: number, boundMs: number): Promise<void> {
    this.waiting = this.waiting.filter((w) => {
      if (w.part.partition !== partition) return true;
      w.reject(new TransactionFailure('begin', new WriterInvariantError(`partition ${partition} was released`), this.generation));
      return false;
    });
    if (!this.current.some((w) => w.part.partition === partition) || !this.running) return;
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([this.running.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), boundMs)))]);
    clearTimeout(timer);
    if (ended) return;
    this.options.log(`partition ${partition}: a transaction carrying it outlived ${boundMs} ms at revocation; replacing the producer`);
    await this.replace(this.generation);
    await this.ready(this.generation - 1).catch(() => undefined);
  }

  /** Lets the producer go; a call still running destroys it when it returns. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new TransactionFailure('begin', new WriterInvariantError('the process transactions are closed'), this.generation));
    if (this.running) await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect(timeoutMs);
  }

  private async start(): Promise<void> {
    const { options } = this;
    const producer = await (options.producers ?? connectProducer)({
      ...options.connection,
      clientId: `${options.connection.clientId ?? 'scribe'}-writer`,
      transactionalId: options.transactionalId,
      transactionTimeoutMs: options.transactionTimeoutMs,
      // Scribe batches appends itself (group commit): waiting in librdkafka only adds latency.
      overrides: { 'linger.ms': 0 },
    });
    try {
      // A new epoch of the process's id: its former self (a crashed instance, or this
      // producer's predecessor) is fenced and its open transaction aborted.
      await initTransactions(producer, options.timeoutMs);
    } catch (error) {
      await producer.disconnect();
      throw error;
    }
    if (this.closed) {
      await producer.disconnect();
      return;
    }
    this.producer = producer;
    this.generation++;
  }

  /** Drops the producer of `generation` (if it is still the current one); the next `ready` makes a new one. */
  private async replace(generation: number): Promise<void> {
    if (generation !== this.generation || !this.producer) return;
    const old = this.producer;
    this.producer = undefined;
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
    let generation: number;
    try {
      generation = await this.ready();
    } catch (error) {
      for (const w of this.waiting.splice(0)) w.reject(new TransactionFailure('begin', error, this.generation));
      return;
    }
    const alone = this.waiting.findIndex((w) => w.part.alone);
    const parts = (this.current = alone === 0 ? this.waiting.splice(0, 1) : this.waiting.splice(0, alone < 0 ? this.waiting.length : alone));
    if (parts.length === 0) return;
    const producer = this.producer!;
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
      await this.replace(generation);
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
