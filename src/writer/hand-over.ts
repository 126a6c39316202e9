// The records of one shard hand-over step, produced in the writer's open transaction: the
// marker that seals (or opens) a shard in this partition, the move's new state in the routing
// log and, for a seal asked for by another process, its reply. They commit together, fenced
// like any append of this partition, so a zombie owner can neither seal nor open.
import { partitionForKey } from '../partitioning/murmur2.js';
import type { ShardMove } from '../partitioning/routing.js';
import { encodeReply } from '../owner-protocol/wire.js';
import { encodeMarker, encodeMove } from '../partitioning/routing-record.js';
import type { RemoteOrigin } from '../appends/pending-append.js';
import type { TransactionalProducer } from './producer-factory.js';

/** A shard hand-over step this writer commits: sealing a shard that leaves, opening one that arrives. */
export type HandOverStep =
  | { readonly kind: 'seal'; readonly generation: number; readonly to: number; readonly remote?: RemoteOrigin; resolve(move: ShardMove): void; reject(error: unknown): void }
  | { readonly kind: 'open'; readonly move: ShardMove };

export interface HandOverTopics {
  readonly events: string;
  readonly routing: string;
  readonly replies: string;
}

/** The move a step makes: (generation, from, to) as the routing table names it. */
export function moveOf(step: HandOverStep, partition: number): { generation: number; from: number; to: number } {
  return step.kind === 'seal' ? { generation: step.generation, from: partition, to: step.to } : { generation: step.move.generation, from: step.move.from, to: partition };
}

/** Where the marker of a committed hand-over step is. */
export function offsetOf(move: ShardMove): number {
  return move.state === 'sealed' ? move.sealedAt : move.openedAt!;
}

/**
 * Produces the step's records in the open transaction and returns the move as it will stand
 * once committed. The marker's offset is awaited (the move records it); the others fail the
 * commit if they fail.
 */
export async function produceHandOver(
  producer: TransactionalProducer,
  step: HandOverStep,
  partition: number,
  topics: HandOverTopics,
  replyPartitions: number,
): Promise<ShardMove> {
  const { generation, from, to } = moveOf(step, partition);
  const marker = step.kind === 'seal' ? { kind: 'seal' as const, generation, from, to } : { kind: 'open' as const, generation, from, to, sealedAt: step.move.sealedAt };
  const { offset } = await producer.send({ topic: topics.events, partition, ...encodeMarker(marker) });
  const move: ShardMove =
    step.kind === 'seal'
      ? { generation, from, to, state: 'sealed', sealedAt: offset, sealedTime: Date.now() }
      : { ...step.move, state: 'open', openedAt: offset, openedTime: Date.now() };
  void producer.send({ topic: topics.routing, partition: 0, ...encodeMove(move) }).catch(() => undefined); // fails the commit
  if (step.kind === 'seal' && step.remote) {
    const reply = encodeReply(step.remote.requestId, { ok: true, nextExpectedVersion: -1, partition, offset: String(offset) });
    void producer.send({ topic: topics.replies, partition: partitionForKey(step.remote.requester, replyPartitions), key: step.remote.requester, ...reply }).catch(() => undefined);
  }
  return move;
}
