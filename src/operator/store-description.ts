// `scribe store describe`: a store's topics, routing generations, the owner of each
// partition, open transactions and the size of each partition's log and local indexes.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GroupMember, KafkaAdmin } from '../kafka/index.js';
import { writerGroupId } from '../ownership/writer-group.js';
import type { KafkaEventStore } from '../store/event-store.js';
import { topicNames } from '../store/topics.js';

export interface PartitionOwner {
  readonly clientId: string;
  readonly host: string;
  readonly memberId: string;
}

export interface PartitionFacts {
  readonly partition: number;
  /** The writer process holding the partition; null when none does (no writer runs, or a rebalance is under way). */
  readonly owner: PartitionOwner | null;
  /** First offset still in the log, the end (high watermark) and the last stable offset (what read_committed readers reach). */
  readonly log: { readonly start: number; readonly end: number; readonly stable: number };
  /**
   * A transaction is open on the partition: its last stable offset is held below its end. The
   * Kafka client has no ListTransactions/DescribeTransactions, so this is what can be known:
   * which partitions one holds, not its transactional id or age.
   */
  readonly openTransaction: boolean;
  /** Records in the snapshots topic's partition (compacted: about one per stream with a snapshot, until compaction catches up). */
  readonly snapshotRecords: number;
}

export interface LocalIndex {
  readonly dir: string;
  readonly bytes: number;
}

export interface StoreDescription {
  readonly store: string;
  /** The partition count in use (the routing table's latest generation). */
  readonly partitions: number;
  /** Partition count of each routing generation, oldest first. */
  readonly generations: readonly number[];
  readonly topics: readonly { readonly name: string; readonly partitions: number }[];
  readonly writers: { readonly groupId: string; readonly state: string; readonly members: number };
  readonly partitionFacts: readonly PartitionFacts[];
  /**
   * The local stream indexes of this store under `<cwd>/.scribe/<store>/` on this host (the
   * default place; each process has its own, on its own disk).
   */
  readonly localIndexes: readonly LocalIndex[];
}

export function ownersByPartition(members: readonly GroupMember[], appendsTopic: string): Map<number, PartitionOwner> {
  const owners = new Map<number, PartitionOwner>();
  for (const member of members) {
    for (const { topic, partition } of member.partitions) {
      if (topic === appendsTopic) owners.set(partition, { clientId: member.clientId, host: member.host, memberId: member.memberId });
    }
  }
  return owners;
}

export async function describeStore(store: KafkaEventStore, admin: KafkaAdmin, indexRoot = resolve('.scribe')): Promise<StoreDescription> {
  const topics = topicNames(store.name);
  const routing = await store.routingStatus();
  const described = await Promise.all(Object.values(topics).map((name) => admin.describeTopic(name)));
  const eventPartitions = described.find((t) => t.name === topics.events)!.partitions;
  const all = Array.from({ length: eventPartitions }, (_, p) => p);
  const [group, start, end, stable, snapshotStart, snapshotEnd] = await Promise.all([
    admin.describeGroup(writerGroupId(store.name)),
    admin.startOffsets(topics.events, all),
    admin.endOffsets(topics.events, all, 'read_uncommitted'),
    admin.endOffsets(topics.events, all, 'read_committed'),
    admin.startOffsets(topics.snapshots, all),
    admin.endOffsets(topics.snapshots, all, 'read_uncommitted'),
  ]);
  const owners = ownersByPartition(group.members, topics.appends);
  return {
    store: store.name,
    partitions: routing.partitions,
    generations: routing.generations,
    topics: described.map((t) => ({ name: t.name, partitions: t.partitions })),
    writers: { groupId: group.groupId, state: group.state, members: group.members.length },
    partitionFacts: all.map((partition) => {
      const log = { start: start.get(partition) ?? 0, end: end.get(partition) ?? 0, stable: stable.get(partition) ?? 0 };
      return {
        partition,
        owner: owners.get(partition) ?? null,
        log,
        openTransaction: log.stable < log.end,
        snapshotRecords: (snapshotEnd.get(partition) ?? 0) - (snapshotStart.get(partition) ?? 0),
      };
    }),
    localIndexes: localIndexes(join(indexRoot, store.name)),
  };
}

function localIndexes(root: string): LocalIndex[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries.map((name) => join(root, name)).filter((dir) => statSync(dir).isDirectory()).map((dir) => ({ dir, bytes: bytesUnder(dir) }));
}

function bytesUnder(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}
