// The checkpoint seam of batch subscriptions: a reader hands each batch with its checkpoint
// (per partition, the last record it covers); a checkpoint store says where an assigned
// partition resumes and keeps the checkpoints, in Kafka's consumer group or elsewhere.
import { ScribeError } from '../errors.js';
import type { KafkaConsumer } from '../kafka/index.js';
import type { Position, RecordedEvent } from '../streams/event.js';

/** The events a batch subscription hands over at once, and where the reader stands after them. */
export interface Batch {
  /** In per-partition order (decoded and upcast as on every read path). */
  readonly events: readonly RecordedEvent[];
  /**
   * Per partition the batch covers: the position of the last record it covers. It can be
   * past the last event (a growth marker carries no event), and a partition can appear with
   * no event at all.
   */
  readonly checkpoint: readonly Position[];
}

/**
 * Where a batch subscription keeps its checkpoints. Offsets here are "next to handle"
 * (one past the checkpoint's position), as Kafka commits them.
 */
export interface CheckpointStore {
  /**
   * The group assigned these partitions to this reader: take them over (a store that can,
   * fences their earlier holder here) and say, for each that has a checkpoint, the next
   * offset to handle. A partition without one (absent, or negative) starts at the
   * subscription's `from`.
   */
  claim(partitions: readonly number[]): Promise<ReadonlyMap<number, number>>;
  /** The partitions were taken away from this reader. */
  release(partitions: readonly number[]): void;
  /**
   * Called once the handler has returned: makes the batch's checkpoint durable. A store that
   * commits inside the handler's own transaction (exactly-once effect) has nothing left to do.
   */
  commit(checkpoint: readonly Position[]): Promise<void>;
  /**
   * The next offset to handle that the store holds for a partition, whoever handled it
   * (-1 when none): a growth barrier waits until the old partition's reaches the seal.
   */
  next(partition: number): Promise<number>;
}

/**
 * Thrown by a batch handler (or a checkpoint store) when the batch's checkpoint could not be
 * committed because another reader claimed these partitions since, or the commit's outcome is
 * unknown: nothing of the batch took effect. The reader claims them again and reads on from
 * where the store says.
 */
export class CheckpointLostError extends ScribeError {
  readonly code = 'CHECKPOINT_LOST';
  override readonly retriable = true;
  constructor(
    readonly partitions: readonly number[],
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`checkpoint of ${partitions.length > 0 ? `partitions ${partitions.join(',')}` : 'the batch'} not committed: ${reason}`, options);
  }
}

/** Today's behaviour: checkpoints are the consumer group's committed offsets, committed after the handler returns. */
export class KafkaGroupCheckpoints implements CheckpointStore {
  /** Committed by the next commit: one that failed or was skipped (another still running) is kept here. */
  private readonly uncommitted = new Map<number, number>();

  constructor(
    private readonly consumer: KafkaConsumer,
    private readonly topic: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async claim(partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    const committed = await this.consumer.committed(
      partitions.map((partition) => ({ topic: this.topic, partition })),
      this.timeoutMs,
    );
    return new Map(committed.filter((c) => c.offset >= 0).map((c) => [c.partition, c.offset]));
  }

  release(partitions: readonly number[]): void {
    // The new holder starts from what the group has: a checkpoint not committed by now is replayed there.
    for (const partition of partitions) this.uncommitted.delete(partition);
  }

  async commit(checkpoint: readonly Position[]): Promise<void> {
    for (const p of checkpoint) this.uncommitted.set(p.partition, Number(p.offset) + 1);
    if (this.uncommitted.size === 0) return;
    const offsets = [...this.uncommitted];
    try {
      if ((await this.consumer.commit(offsets.map(([partition, offset]) => ({ topic: this.topic, partition, offset })), this.timeoutMs)) === 'skipped') return;
      for (const [partition, offset] of offsets) if (this.uncommitted.get(partition) === offset) this.uncommitted.delete(partition);
    } catch {
      // Kept for the next commit: at worst those events are handled again after a restart,
      // as with any at-least-once checkpoint (the subscription goes on meanwhile).
    }
  }

  async next(partition: number): Promise<number> {
    const [committed] = await this.consumer.committed([{ topic: this.topic, partition }], this.timeoutMs).catch(() => []);
    return committed?.offset ?? -1;
  }
}
