// Applies one planned fault to the 3-broker cluster or to the worker processes, holds it, heals
// it; finds the hot partition's leader and its owner's transaction coordinator via the admin API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { clusterDir, type LocalKafkaCluster } from '../src/local-kafka/cluster.js';
import type { AppliedFault } from './availability.js';
import type { Workers } from './processes.js';
import { pickFrom, type PlannedFault } from './schedule.js';

export interface FaultContext {
  readonly cluster: LocalKafkaCluster;
  readonly workers: Workers;
  readonly store: string;
  /** The partition of the hot stream in `<store>.events`. */
  readonly hotPartition: number;
  readonly log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Java's String.hashCode, as Kafka uses it to place a transactional id or a group. */
export function javaStringHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs(hash) % partitions: the partition of `__transaction_state` (or `__consumer_offsets`) for a key. */
export function coordinatorPartition(key: string, partitions: number): number {
  const h = javaStringHash(key);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

async function leaderOf(brokers: readonly string[], topic: string, partition: (count: number) => number): Promise<number> {
  const kafka = new Kafka({ clientId: 'chaos-faults', brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]!.partitions;
    const wanted = partition(partitions.length);
    const found = partitions.find((p) => p.partitionId === wanted);
    if (!found || found.leader < 0) throw new Error(`${topic}[${wanted}] has no leader`);
    return found.leader;
  } finally {
    await admin.disconnect();
  }
}

/** The active KRaft controller: the leader of the highest epoch any node's log reports. */
export function activeController(cluster: LocalKafkaCluster): number | undefined {
  let best: { epoch: number; leader: number } | undefined;
  for (const id of cluster.nodeIds) {
    let text: string;
    try {
      text = readFileSync(join(clusterDir(cluster.name), `node-${id}`, 'server.log'), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('Completed transition to')) continue;
      const epoch = Number(/epoch=(\d+)/.exec(line)?.[1] ?? -1);
      const leader = line.includes('transition to Leader') ? Number(/ReplicaKey\(id=(\d+)/.exec(line)?.[1] ?? -1) : Number(/[ ,(]leader=(\d+)/.exec(line)?.[1] ?? -1);
      if (leader >= 0 && (!best || epoch > best.epoch)) best = { epoch, leader };
    }
  }
  return best?.leader;
}

async function restartBroker(ctx: FaultContext, id: number): Promise<void> {
  await ctx.cluster.startNode(id, 120_000);
}

/**
 * Waits until every broker answers on its own port and every partition of the store's events
 * and of `__transaction_state` has a leader and all three replicas in sync again, so that the
 * next fault does not add to this one. (A surviving broker of a lost quorum keeps listing the
 * dead ones: the cluster's own readiness check can pass before they are back.)
 */
export async function waitHealthy(ctx: FaultContext, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let why = '';
  while (Date.now() < deadline) {
    try {
      for (const broker of ctx.cluster.brokers) {
        const kafka = new Kafka({ clientId: 'chaos-health', brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2_000, requestTimeout: 5_000 });
        const admin = kafka.admin();
        await admin.connect();
        try {
          const { topics } = await admin.fetchTopicMetadata({ topics: [`${ctx.store}.events`, '__transaction_state'] });
          const lagging = topics.flatMap((t) => t.partitions.filter((p) => p.leader < 0 || p.isr.length < 3).map((p) => `${t.name}[${p.partitionId}]`));
          if (lagging.length > 0) throw new Error(`not fully in sync: ${lagging.slice(0, 3).join(', ')}`);
        } finally {
          await admin.disconnect();
        }
      }
      return;
    } catch (error) {
      why = String(error);
    }
    await sleep(1_000);
  }
  ctx.log(`chaos: the cluster was not healthy again within ${timeoutMs} ms (${why}); going on`);
}

/** Runs one fault from start to heal; returns what it did, with its times. */
export async function applyFault(ctx: FaultContext, fault: PlannedFault): Promise<AppliedFault> {
  const { cluster, workers } = ctx;
  const brokers = cluster.brokers;
  const nodes = cluster.nodeIds;
  const startT = Date.now();
  let target = '';
  const done = (): AppliedFault => ({ kind: fault.kind, target, startT, healedT: Date.now() });
  const killAndRestart = async (ids: number[]) => {
    await Promise.all(ids.map((id) => cluster.killNode(id)));
    await sleep(fault.holdMs);
    for (const id of ids) await restartBroker(ctx, id);
    await waitHealthy(ctx);
  };
  switch (fault.kind) {
    case 'broker-kill': {
      const id = pickFrom(nodes, fault.pick);
      target = `broker ${id}`;
      await killAndRestart([id]);
      return done();
    }
    case 'broker-pause': {
      const id = pickFrom(nodes, fault.pick);
      target = `broker ${id}`;
      cluster.pauseNode(id);
      await sleep(fault.holdMs);
      cluster.resumeNode(id);
      await waitHealthy(ctx);
      return done();
    }
    case 'leader-kill': {
      const found = await leaderOf(brokers, `${ctx.store}.events`, () => ctx.hotPartition).catch((error: unknown) => `${error}`);
      const id = typeof found === 'number' ? found : pickFrom(nodes, fault.pick);
      target = `broker ${id} (${typeof found === 'number' ? '' : `leader not found: ${found}; picked instead of `}leader of ${ctx.store}.events[${ctx.hotPartition}])`;
      await killAndRestart([id]);
      return done();
    }
    case 'coordinator-kill': {
      const transactionalId = `${ctx.store}.p${ctx.hotPartition}`;
      const found = await leaderOf(brokers, '__transaction_state', (count) => coordinatorPartition(transactionalId, count)).catch((error: unknown) => `${error}`);
      const id = typeof found === 'number' ? found : pickFrom(nodes, fault.pick);
      target = `broker ${id} (${typeof found === 'number' ? '' : `coordinator not found: ${found}; picked instead of `}transaction coordinator of ${transactionalId})`;
      await killAndRestart([id]);
      return done();
    }
    case 'two-brokers-down': {
      const spared = pickFrom(nodes, fault.pick);
      const ids = nodes.filter((id) => id !== spared);
      target = `brokers ${ids.join(' and ')}`;
      await killAndRestart(ids);
      return done();
    }
    case 'controller-kill': {
      const found = activeController(cluster);
      const id = found ?? pickFrom(nodes, fault.pick);
      target = `broker ${id} (${found === undefined ? 'no controller found in the logs; picked instead of ' : ''}active controller)`;
      await killAndRestart([id]);
      return done();
    }
    case 'rolling-restart': {
      target = `brokers ${nodes.join(', ')} one by one`;
      for (const id of nodes) {
        await cluster.stopNode(id, 30_000);
        await restartBroker(ctx, id);
        // The restarted broker catches up and rejoins the ISR before the next one goes.
        await waitHealthy(ctx);
      }
      return done();
    }
    case 'writer-kill': {
      const victim = pickFrom(workers.live('writer'), fault.pick);
      target = `writer ${victim.name} (SIGKILL)`;
      await workers.kill(victim);
      await sleep(fault.holdMs);
      const replacement = await workers.start('writer');
      target += `, replaced by ${replacement.name}`;
      return done();
    }
    case 'writer-pause': {
      const victim = pickFrom(workers.live('writer'), fault.pick);
      target = `writer ${victim.name} (SIGSTOP)`;
      workers.pause(victim);
      await sleep(fault.holdMs);
      workers.resume(victim);
      return done();
    }
    case 'writer-pause-in-rebalance': {
      const writers = workers.live('writer');
      const victim = pickFrom(writers, fault.pick);
      // A new member joins: the group rebalances; a writer freezes in the middle of it.
      const joining = workers.start('writer');
      await sleep(1_500);
      target = `writer ${victim.name} (SIGSTOP) while a new writer joined`;
      workers.pause(victim);
      await sleep(fault.holdMs);
      workers.resume(victim);
      const joined = await joining;
      target += ` (${joined.name})`;
      return done();
    }
    case 'writers-kill-in-rebalance': {
      const writers = workers.live('writer');
      const first = pickFrom(writers, fault.pick);
      target = `writer ${first.name}`;
      await workers.kill(first);
      // A new member joins at once: the group rebalances; the second writer dies in the middle of it.
      const joining = workers.start('writer');
      await sleep(1_500);
      const second = workers.live('writer').find((w) => w !== first && writers.includes(w));
      if (second) {
        target += ` then ${second.name} mid-rebalance (SIGKILL)`;
        await workers.kill(second);
      }
      const replacement = await joining;
      await sleep(fault.holdMs);
      const another = await workers.start('writer');
      target += `, replaced by ${replacement.name} and ${another.name}`;
      return done();
    }
  }
}
