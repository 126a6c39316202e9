// Batch subscriptions of the in-memory store, with the Kafka store's rules: the subscriptions
// of one name share the partitions, each partition starts where its checkpoint store says
// (else at the subscription's `from`), batches are bounded by count, a lost checkpoint reads
// its partitions again from the store. So a projection (e.g. `scribe/postgres`) runs on it.
import { TimeoutError } from '../errors.js';
import type { EventReader } from '../schemas/event-schemas.js';
import type { BatchHandler, BatchSettings } from '../store/batch-subscription.js';
import { CheckpointLostError, type CheckpointStore } from '../store/checkpoints.js';
import { messageOf } from '../store/validation.js';
import type { RunningBatches } from '../store/projection-source.js';
import type { Position, RecordedEvent } from '../streams/event.js';
import type { InMemoryLog } from './in-memory-log.js';

/** The batch subscriptions of one name: its members share the partitions; its checkpoints when no store is given. */
export class BatchGroup {
  readonly members: InMemoryBatchSubscription[] = [];
  /** Per partition, the next offset to handle (the default checkpoint store). */
  readonly checkpoints = new Map<number, number>();

  /** Member i holds the partitions p with p % members === i (re-dealt when one joins or leaves). */
  holds(member: InMemoryBatchSubscription, partition: number): boolean {
    return this.members.length > 0 && this.members[partition % this.members.length] === member;
  }

  changed(): void {
    for (const member of this.members) member.wake();
  }
}

/** The default checkpoint store: the group's, committed after each batch (at-least-once, as Kafka's group). */
export class GroupCheckpoints implements CheckpointStore {
  constructor(private readonly group: BatchGroup) {}

  async claim(partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    return new Map(partitions.filter((p) => this.group.checkpoints.has(p)).map((p) => [p, this.group.checkpoints.get(p)!]));
  }

  release(): void {
    // Kept in the group for the next holder.
  }

  async commit(checkpoint: readonly Position[]): Promise<void> {
    for (const p of checkpoint) this.group.checkpoints.set(p.partition, Number(p.offset) + 1);
  }

  async next(partition: number): Promise<number> {
    return this.group.checkpoints.get(partition) ?? -1;
  }
}

export class InMemoryBatchSubscription implements RunningBatches {
  private running = true;
  private readonly loop: Promise<void>;
  /** Partitions held and claimed, with the next offset to read. */
  private readonly next = new Map<number, number>();
  private readonly positions = new Map<number, string>();
  /** Held partitions to claim (again) before they are read. */
  private readonly toClaim = new Set<number>();
  private claimAfter = 0;
  private waking: () => void = () => undefined;
  private stopping: Promise<void> | undefined;
  private abandon: (error: Error) => void = () => undefined;
  private readonly abandonment = new Promise<never>((_, reject) => {
    this.abandon = reject;
  });

  constructor(
    private readonly log: InMemoryLog,
    private readonly read: EventReader,
    private readonly handler: BatchHandler,
    private readonly group: BatchGroup,
    private readonly checkpoints: CheckpointStore,
    private readonly settings: BatchSettings,
    /** Per partition, where to start without a checkpoint (absent: 0). */
    private readonly starts: ReadonlyMap<number, number>,
  ) {
    group.members.push(this);
    group.changed();
    this.loop = this.run();
    this.loop.catch(() => undefined);
    this.abandonment.catch(() => undefined);
  }

  get done(): Promise<void> {
    return Promise.race([this.loop, this.abandonment]);
  }

  get partitions(): number[] {
    return [...this.next.keys(), ...this.toClaim].sort((a, b) => a - b);
  }

  get lastPositions(): Position[] {
    return [...this.positions].map(([partition, offset]) => ({ partition, offset }));
  }

  reclaim(partitions: readonly number[]): void {
    for (const partition of partitions) {
      if (!this.next.has(partition)) continue;
      this.next.delete(partition);
      this.toClaim.add(partition);
    }
    this.wake();
  }

  /** Makes the loop look again now (a write, a member joining or leaving, a reclaim). */
  wake(): void {
    this.waking();
  }

  stop(): Promise<void> {
    this.running = false;
    this.wake();
    this.stopping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), this.settings.stopTimeoutMs)));
      const outcome = await Promise.race([this.loop.then(() => 'stopped' as const, () => 'stopped' as const), expired]);
      clearTimeout(timer);
      this.leave();
      if (outcome === 'stopped') return;
      const error = new TimeoutError('batch subscription stop (the running batch handler did not return; stopped without it)', this.settings.stopTimeoutMs);
      this.abandon(error);
      throw error;
    })();
    return this.stopping;
  }

  private leave(): void {
    const { members } = this.group;
    if (!members.includes(this)) return;
    members.splice(members.indexOf(this), 1);
    this.group.changed();
  }

  private async run(): Promise<void> {
    try {
      while (this.running) {
        const woken = new Promise<void>((resolve) => (this.waking = resolve));
        const written = new AbortController();
        const changed = this.log.changed(written.signal);
        this.follow();
        if (this.toClaim.size > 0 && Date.now() >= this.claimAfter) await this.claim();
        const handed = this.running && (await this.handOver());
        if (!handed) {
          const retry = this.toClaim.size > 0 ? new Promise((r) => setTimeout(r, Math.max(10, this.claimAfter - Date.now()))) : new Promise(() => undefined);
          await Promise.race([changed, woken, retry]);
        }
        written.abort();
      }
    } finally {
      this.leave();
    }
  }

  /** Takes up the partitions the group deals this member, gives up the others. */
  private follow(): void {
    const released: number[] = [];
    for (let partition = 0; partition < this.log.partitions; partition++) {
      const held = this.next.has(partition) || this.toClaim.has(partition);
      if (this.group.holds(this, partition)) {
        if (!held) this.toClaim.add(partition);
      } else if (held) {
        this.next.delete(partition);
        this.toClaim.delete(partition);
        this.positions.delete(partition);
        released.push(partition);
      }
    }
    if (released.length > 0) this.checkpoints.release(released);
  }

  private async claim(): Promise<void> {
    const partitions = [...this.toClaim];
    let claimed: ReadonlyMap<number, number>;
    try {
      claimed = await this.checkpoints.claim(partitions);
    } catch (error) {
      this.settings.log(`subscription ${this.settings.name}: claiming partitions ${partitions.join(',')} failed (${messageOf(error)}); trying again`);
      this.claimAfter = Date.now() + 1_000;
      return;
    }
    for (const partition of partitions) {
      // Re-dealt to another member while the claim ran: it claims it.
      if (!this.toClaim.delete(partition) || !this.group.holds(this, partition)) continue;
      const held = claimed.get(partition) ?? -1;
      const offset = held >= 0 ? held : (this.starts.get(partition) ?? 0);
      this.next.set(partition, offset);
      if (offset > 0) this.positions.set(partition, String(offset - 1));
    }
  }

  /** Hands over what the held partitions have past their checkpoints (up to a batch); says whether there was anything. */
  private async handOver(): Promise<boolean> {
    const events: RecordedEvent[] = [];
    const last = new Map<number, number>();
    let room = this.settings.maxBatchEvents;
    for (const [partition, offset] of this.next) {
      if (!this.group.holds(this, partition)) continue;
      for (const stored of this.log.from(partition, offset)) {
        if (room <= 0) break;
        const read = this.read(stored);
        events.push(...read);
        room -= Math.max(1, read.length);
        last.set(partition, stored.offset);
      }
    }
    if (last.size === 0) return false;
    const checkpoint = [...last].map(([partition, offset]) => ({ partition, offset: String(offset) }));
    try {
      await this.handler({ events, checkpoint });
      await this.checkpoints.commit(checkpoint);
    } catch (error) {
      if (!(error instanceof CheckpointLostError)) throw error;
      const again = [...new Set([...last.keys(), ...error.partitions])];
      this.settings.log(`subscription ${this.settings.name}: ${error.message}; claiming ${again.join(',')} again`);
      this.reclaim(again);
      this.claimAfter = Date.now() + 1_000;
      return true;
    }
    for (const [partition, offset] of last) {
      if (!this.next.has(partition)) continue;
      this.next.set(partition, offset + 1);
      this.positions.set(partition, String(offset));
    }
    return true;
  }
}
