// Subscriptions of the in-memory store, with the Kafka store's rules: per-partition order,
// catch-up then live, a named subscription resumes after its checkpoint and shares the
// partitions with the other subscriptions of its name, a handler error ends it.
import type { EventHandler, Subscription } from '../contract/event-store.js';
import { TimeoutError } from '../errors.js';
import type { EventReader } from '../schemas/event-schemas.js';
import type { Position } from '../streams/event.js';
import type { InMemoryLog } from './in-memory-log.js';

/** The subscriptions of one name: its checkpoints and its members, who share the partitions. */
export class SubscriptionGroup {
  /** Per partition, the next offset to handle. */
  readonly checkpoints = new Map<number, number>();
  readonly members: InMemorySubscription[] = [];

  /** Member i handles the partitions p with p % members === i. */
  owns(member: InMemorySubscription, partition: number): boolean {
    return this.members.length > 0 && this.members[partition % this.members.length] === member;
  }
}

export class InMemorySubscription implements Subscription {
  private running = true;
  private readonly wake = new AbortController();
  private readonly positions = new Map<number, string>();
  private readonly loop: Promise<void>;
  private abandon: (error: Error) => void = () => undefined;
  private readonly abandonment = new Promise<never>((_, reject) => {
    this.abandon = reject;
  });
  private stopping: Promise<void> | undefined;
  /** Set when `stop()` gave up on a running handler. */
  private abandoned = false;

  constructor(
    private readonly log: InMemoryLog,
    private readonly read: EventReader,
    private readonly handler: EventHandler,
    /** Where each partition goes on: the group's checkpoints, or this subscription's own. */
    private readonly next: Map<number, number>,
    private readonly group: SubscriptionGroup | undefined,
    private readonly stopTimeoutMs: number,
  ) {
    group?.members.push(this);
    this.loop = this.run();
    // A handler failure is reported through `done`; it must not also be an unhandled rejection.
    this.loop.catch(() => undefined);
    this.abandonment.catch(() => undefined);
  }

  /** @internal Per partition, the events not handled yet (for `health()`). */
  behind(): { partition: number; events: number }[] {
    return [...this.next].map(([partition, next]) => ({ partition, events: Math.max(0, this.log.end(partition) - next) }));
  }

  get done(): Promise<void> {
    return Promise.race([this.loop, this.abandonment]);
  }

  get lastPositions(): Position[] {
    return [...this.positions].map(([partition, offset]) => ({ partition, offset }));
  }

  stop(): Promise<void> {
    this.running = false;
    this.wake.abort();
    this.stopping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), this.stopTimeoutMs)));
      const outcome = await Promise.race([this.loop.then(() => 'stopped' as const, () => 'stopped' as const), expired]);
      clearTimeout(timer);
      this.leave();
      if (outcome === 'stopped') return;
      this.abandoned = true;
      const error = new TimeoutError('subscription.stop (the running event handler did not return; the subscription stopped without it)', this.stopTimeoutMs);
      this.abandon(error);
      throw error;
    })();
    return this.stopping;
  }

  private leave(): void {
    const members = this.group?.members;
    if (members?.includes(this)) members.splice(members.indexOf(this), 1);
  }

  private async run(): Promise<void> {
    try {
      while (this.running) {
        const changed = this.log.changed(this.wake.signal);
        let handled = false;
        for (let partition = 0; partition < this.log.partitions && this.running; partition++) {
          if (this.group && !this.group.owns(this, partition)) continue;
          handled = (await this.catchUp(partition)) || handled;
        }
        if (!handled) await changed;
      }
    } finally {
      this.leave();
    }
  }

  /** Handles what `partition` holds past its checkpoint; says whether there was anything. */
  private async catchUp(partition: number): Promise<boolean> {
    const pending = this.log.from(partition, this.next.get(partition) ?? 0);
    for (const stored of pending) {
      if (!this.running || (this.group && !this.group.owns(this, partition))) break;
      for (const event of this.read(stored)) await this.handler(event);
      // A stop() that gave up on the handler has moved on: nothing after it is checkpointed.
      if (this.abandoned) return true;
      this.next.set(partition, stored.offset + 1);
      this.positions.set(partition, String(stored.offset));
    }
    return pending.length > 0;
  }
}
