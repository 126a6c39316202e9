// The records of online growth (docs/record-format.md): the routing log `<store>.routing`
// (partition counts by generation, shard moves) and the hand-over markers a move leaves in
// `<store>.events`: a seal where a shard's history ends, an open where it continues.
import type { MessageHeader } from '@confluentinc/kafka-javascript';
import { moveId, type ShardMove } from './routing.js';
import { headerValue } from '../records/event-record.js';

export const controlHeader = 'scribe.control';

export type RoutingEntry = { readonly kind: 'generation'; readonly generation: number; readonly partitions: number } | { readonly kind: 'move'; readonly move: ShardMove };

export function encodeGeneration(generation: number, partitions: number): { key: string; value: Buffer } {
  return { key: `generation/${generation}`, value: Buffer.from(JSON.stringify({ generation, partitions })) };
}

export function encodeMove(move: ShardMove): { key: string; value: Buffer } {
  return { key: `move/${moveId(move)}`, value: Buffer.from(JSON.stringify(move)) };
}

/** Reads a routing log record; undefined for one this version does not know. */
export function decodeRoutingEntry(message: { key?: Buffer | string | null; value: Buffer | null }): RoutingEntry | undefined {
  const key = message.key?.toString() ?? '';
  if (!message.value) return undefined;
  const value = JSON.parse(message.value.toString('utf8')) as Record<string, unknown>;
  if (key.startsWith('generation/')) return { kind: 'generation', generation: Number(value.generation), partitions: Number(value.partitions) };
  if (key.startsWith('move/')) return { kind: 'move', move: value as unknown as ShardMove };
  return undefined;
}

/** A hand-over marker in the events topic. */
export interface HandOverMarker {
  readonly kind: 'seal' | 'open';
  readonly generation: number;
  readonly from: number;
  readonly to: number;
  /** On an open marker: where the shard's history in `from` ends. */
  readonly sealedAt?: number;
}

export function encodeMarker(marker: HandOverMarker): { key: string; value: Buffer; headers: MessageHeader[] } {
  return {
    key: `scribe.move/${moveId(marker)}`,
    value: Buffer.from(JSON.stringify(marker)),
    headers: [{ [controlHeader]: marker.kind }],
  };
}

export function decodeMarker(message: { headers?: MessageHeader[]; value: Buffer | null }): HandOverMarker | undefined {
  const kind = headerValue(message.headers, controlHeader);
  if ((kind !== 'seal' && kind !== 'open') || !message.value) return undefined;
  return JSON.parse(message.value.toString('utf8')) as HandOverMarker;
}
