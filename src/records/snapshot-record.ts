// The record format of `<store>.snapshots` (docs/record-format.md): the latest state of a
// stream, keyed by stream id in a compacted topic, in the partition of the stream's events.
import type { MessageHeader } from '@confluentinc/kafka-javascript';
import { headerValue, headers as eventHeaders } from './event-record.js';

export const snapshotHeaders = {
  stream: eventHeaders.stream,
  version: eventHeaders.version,
  snapshotVersion: 'scribe.snapshot-version',
  position: 'scribe.position',
} as const;

/** A snapshot ready to be written; its position is known once its last event is delivered. */
export interface EncodedSnapshot {
  readonly streamId: string;
  /** The stream version whose state this is. */
  readonly version: number;
  readonly snapshotVersion: number;
  readonly state: Buffer;
}

export interface StoredSnapshot extends EncodedSnapshot {
  /** Where the event at `version` is in the events topic. */
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

export function snapshotRecordHeaders(snapshot: StoredSnapshot): MessageHeader[] {
  return [
    { [snapshotHeaders.stream]: snapshot.streamId },
    { [snapshotHeaders.version]: String(snapshot.version) },
    { [snapshotHeaders.snapshotVersion]: String(snapshot.snapshotVersion) },
    { [snapshotHeaders.position]: `${snapshot.partition}:${snapshot.offset}` },
  ];
}

export function storedSnapshotFrom(message: { headers?: MessageHeader[]; value: Buffer | null; timestamp?: number }): StoredSnapshot | undefined {
  const streamId = headerValue(message.headers, snapshotHeaders.stream);
  const version = Number(headerValue(message.headers, snapshotHeaders.version));
  const snapshotVersion = Number(headerValue(message.headers, snapshotHeaders.snapshotVersion));
  const [partition, offset] = (headerValue(message.headers, snapshotHeaders.position) ?? '').split(':').map(Number);
  if (streamId === undefined || !message.value || ![version, snapshotVersion, partition, offset].every((n) => Number.isSafeInteger(n))) return undefined;
  return { streamId, version, snapshotVersion, state: message.value, partition: partition!, offset: offset!, timestamp: message.timestamp ?? 0 };
}
