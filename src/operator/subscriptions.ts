// A store's named subscriptions (consumer groups `<store>.events.subscription.<name>`, used by
// `subscribe({ name })` and `subscribeBatches`) and how far each is behind the log.
import type { KafkaAdmin } from '../kafka/index.js';
import type { KafkaEventStore } from '../store/event-store.js';
import type { PartitionLag } from '../store/lag.js';
import { topicNames } from '../store/topics.js';

export interface SubscriptionSummary {
  readonly name: string;
  readonly groupId: string;
  /** The group's state: STABLE while processes consume, EMPTY when none does. */
  readonly state: string;
  readonly members: number;
}

export interface SubscriptionLag extends SubscriptionSummary {
  readonly partitions: readonly PartitionLag[];
  /** Summed over the partitions (an upper bound: transaction markers count as records). */
  readonly events: number;
  /** The oldest event not handled yet, in seconds (0 when caught up). */
  readonly seconds: number;
}

function groupPrefix(store: string): string {
  return `${topicNames(store).events}.subscription.`;
}

export async function listSubscriptions(admin: KafkaAdmin, store: string): Promise<SubscriptionSummary[]> {
  const prefix = groupPrefix(store);
  const groups = (await admin.listGroups()).filter((group) => group.startsWith(prefix)).sort();
  return Promise.all(
    groups.map(async (groupId) => {
      const group = await admin.describeGroup(groupId);
      return { name: groupId.slice(prefix.length), groupId, state: group.state, members: group.members.length };
    }),
  );
}

/** The subscription's lag per partition, from the offsets its group committed. */
export async function subscriptionLag(store: KafkaEventStore, admin: KafkaAdmin, summary: SubscriptionSummary): Promise<SubscriptionLag> {
  const committed = await admin.committedOffsets(summary.groupId, topicNames(store.name).events);
  // A committed offset is the next one to handle; a checkpoint names the last one handled.
  const checkpoint = [...committed].filter(([partition, next]) => partition < store.partitions && next > 0).map(([partition, next]) => ({ partition, offset: String(next - 1) }));
  const partitions = await store.lag(checkpoint);
  return {
    ...summary,
    partitions,
    events: partitions.reduce((sum, p) => sum + p.events, 0),
    seconds: partitions.reduce((max, p) => Math.max(max, p.seconds), 0),
  };
}
