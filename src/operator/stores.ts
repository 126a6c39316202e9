// The stores a cluster holds, found by their topics: a store named `<name>` has `<name>.events`
// and its companions (src/store/topics.ts).
import pLimit from 'p-limit';
import type { KafkaAdmin } from '../kafka/index.js';
import { topicNames } from '../store/topics.js';

export interface StoreSummary {
  readonly store: string;
  /** Partitions of the events topic (the routing log may use fewer, see `store describe`). */
  readonly partitions: number;
  /** Companion topics that do not exist: a store whose connect never finished, or topics deleted by hand. */
  readonly missingTopics: readonly string[];
}

export async function listStores(admin: KafkaAdmin): Promise<StoreSummary[]> {
  const topics = new Set(await admin.listTopics());
  const names = [...topics].filter((topic) => topic.endsWith('.events')).map((topic) => topic.slice(0, -'.events'.length));
  // A store's topics are `<store>.<kind>`; `<a>.events` alone is some other application's topic.
  const stores = names.sort().filter((store) => Object.values(topicNames(store)).filter((topic) => topics.has(topic)).length >= 2);
  // A few descriptions at a time: a shared cluster may hold hundreds of stores.
  const limit = pLimit(8);
  return Promise.all(
    stores.map((store) =>
      limit(async () => {
        const { partitions } = await admin.describeTopic(topicNames(store).events);
        return { store, partitions, missingTopics: Object.values(topicNames(store)).filter((topic) => !topics.has(topic)) };
      }),
    ),
  );
}
