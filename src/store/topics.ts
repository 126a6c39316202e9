// The topics of a store named `<name>` (design brief, "Topics"): created when missing, and
// checked to be co-partitioned when they exist. Growth adds partitions to the partitioned
// ones (`grow`); the routing log says how many of them are in use.
import { InvalidArgumentError } from '../errors.js';
import type { KafkaAdmin } from '../kafka/index.js';

export interface StoreTopics {
  readonly events: string;
  readonly appends: string;
  readonly replies: string;
  readonly snapshots: string;
  /** Partition counts by generation and shard moves (docs/decisions/0005-online-growth.md). */
  readonly routing: string;
}

export interface StoreLayout {
  /** The store's name: the prefix of its topics and groups. */
  readonly store: string;
  readonly topics: StoreTopics;
  /** Partitions of the events topic: at least as many as the routing log uses. */
  readonly partitions: number;
  readonly replyPartitions: number;
  /** Kafka's id of the events topic; the local index belongs to it. */
  readonly eventsTopicId: string;
}

export function topicNames(store: string): StoreTopics {
  return { events: `${store}.events`, appends: `${store}.appends`, replies: `${store}.replies`, snapshots: `${store}.snapshots`, routing: `${store}.routing` };
}

const day = String(24 * 60 * 60 * 1000);

export async function ensureTopics(admin: KafkaAdmin, store: string, partitions: number, replicationFactor: number): Promise<StoreLayout> {
  const topics = topicNames(store);
  const minInsync = String(Math.min(2, replicationFactor));
  // Only missing topics are created: asking to create one that exists needs CREATE too, which
  // writers and readers of a secured cluster do not have (docs/decisions/0015-acls.md).
  const existing = new Set(await admin.listTopics());
  const create = (spec: Parameters<KafkaAdmin['createTopic']>[0]) => (existing.has(spec.name) ? Promise.resolve(false) : admin.createTopic(spec));
  await create({
    name: topics.events,
    partitions,
    replicationFactor,
    // The source of truth: never deleted by age or size.
    config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1', 'min.insync.replicas': minInsync },
  });
  const events = await admin.describeTopic(topics.events);
  // An existing store keeps its partition count; `partitions` only applies at creation.
  const actual = events.partitions;
  const replyPartitions = Math.min(actual, 8);
  await create({ name: topics.appends, partitions: actual, replicationFactor, config: { 'retention.ms': day, 'min.insync.replicas': minInsync } });
  await create({ name: topics.replies, partitions: replyPartitions, replicationFactor, config: { 'retention.ms': day, 'min.insync.replicas': minInsync } });
  // A stream's snapshots share its events' partition: the owner writes both in one transaction.
  await create({ name: topics.snapshots, partitions: actual, replicationFactor, config: { 'cleanup.policy': 'compact', 'min.insync.replicas': minInsync } });
  await create({ name: topics.routing, partitions: 1, replicationFactor, config: { 'cleanup.policy': 'compact', 'min.insync.replicas': minInsync } });
  const replies = await admin.describeTopic(topics.replies);
  for (const name of [topics.appends, topics.snapshots]) {
    const topic = await admin.describeTopic(name);
    // More is allowed: `grow` adds partitions topic by topic before the routing log uses them.
    if (topic.partitions < actual) {
      throw new InvalidArgumentError('store', `${name} has ${topic.partitions} partitions but ${topics.events} has ${actual}: they must be co-partitioned`);
    }
  }
  return { store, topics, partitions: actual, replyPartitions: replies.partitions, eventsTopicId: events.topicId };
}
