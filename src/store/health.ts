// `health()` of the Kafka store: ready when open and every owned partition's writer takes
// appends; with each subscription's distance from the end of the partitions it reads.
import type { StoreHealth } from '../contract/event-store.js';
import type { SubscriptionProgress } from './subscription.js';
import { acceptingStates } from './writer-states.js';

export interface HealthSources {
  readonly closed: boolean;
  readonly writer: boolean;
  readonly owned: readonly number[];
  writerState(partition: number): string;
  readonly subscriptions: readonly SubscriptionProgress[];
  endOffsets(partitions: number[]): Promise<Map<number, number>>;
}

/** How long health() waits for the partitions' ends: a probe must answer even when the brokers do not. */
const endOffsetsBoundMs = 2_000;

export async function storeHealth(sources: HealthSources): Promise<StoreHealth> {
  const reasons: string[] = [];
  if (sources.closed) reasons.push('the store is closed');
  const writers = sources.owned.map((partition) => {
    const state = sources.writerState(partition);
    return { partition, state, ready: acceptingStates.has(state) };
  });
  const notReady = writers.filter((w) => !w.ready);
  if (notReady.length > 0) reasons.push(`writer(s) not taking appends: ${notReady.map((w) => `partition ${w.partition} ${w.state}`).join(', ')}`);
  return {
    ready: reasons.length === 0,
    reasons,
    writer: sources.writer,
    ownedPartitions: [...sources.owned],
    writers,
    lag: sources.closed ? [] : await subscriptionLag(sources),
  };
}

async function subscriptionLag(sources: HealthSources): Promise<StoreHealth['lag']> {
  const partitions = [...new Set(sources.subscriptions.flatMap((s) => [...s.next.keys()]))].sort((a, b) => a - b);
  if (partitions.length === 0) return [];
  let timer: NodeJS.Timeout | undefined;
  const ends = await Promise.race([
    sources.endOffsets(partitions).catch(() => undefined),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), endOffsetsBoundMs))),
  ]);
  clearTimeout(timer);
  if (!ends) return [];
  const now = Date.now();
  return sources.subscriptions.flatMap((s) =>
    [...s.next].map(([partition, next]) => {
      const events = Math.max(0, (ends.get(partition) ?? next) - next);
      const last = s.timestamps.get(partition);
      const seconds = events === 0 || last === undefined ? 0 : Math.max(0, Math.round(now - last) / 1000);
      return { subscription: s.group, partition, events, seconds };
    }),
  );
}
