// The record format of `<store>.events`, open to any Kafka client (docs/record-format.md):
// one event per record, key = partition key, the event's identity in headers, data as value.
import type { MessageHeader } from '@confluentinc/kafka-javascript';
import type { EncodedEvent, StoredEvent } from '../streams/encoded-event.js';
import type { Metadata, RecordedEvent } from '../streams/event.js';

export const headers = {
  stream: 'scribe.stream',
  version: 'scribe.version',
  type: 'scribe.type',
  id: 'scribe.id',
  metadata: 'scribe.metadata',
  schemaVersion: 'scribe.schema-version',
  contentType: 'content-type',
} as const;

export const jsonContentType = 'application/json';
/** JSON in the Confluent wire format: magic byte 0, the registry's 4-byte schema id, then the JSON. */
export const registryJsonContentType = 'application/vnd.confluent.json';

export type { EncodedEvent, StoredEvent } from '../streams/encoded-event.js';

export function eventHeaders(streamId: string, version: number, event: EncodedEvent): MessageHeader[] {
  const list: MessageHeader[] = [
    { [headers.stream]: streamId },
    { [headers.version]: String(version) },
    { [headers.type]: event.type },
    { [headers.id]: event.id },
    { [headers.contentType]: event.contentType },
  ];
  if (event.metadata !== undefined) list.push({ [headers.metadata]: event.metadata });
  if (event.schemaVersion !== undefined) list.push({ [headers.schemaVersion]: String(event.schemaVersion) });
  return list;
}

/** librdkafka delivers headers as a list of single-entry objects. */
export function headerValue(list: MessageHeader[] | undefined, name: string): string | undefined {
  if (!list) return undefined;
  for (const entry of list) {
    const value = entry[name];
    if (value !== undefined) return typeof value === 'string' ? value : value.toString('utf8');
  }
  return undefined;
}

/** The Scribe headers of a record (the first of each name). */
interface EventHeaders {
  stream?: string;
  version?: string;
  type?: string;
  id?: string;
  metadata?: string;
  schemaVersion?: string;
  contentType?: string;
}

/**
 * Reads the headers in one pass. A subscription reads every record: looking each name up in
 * turn costs twice as much, librdkafka's one-key header objects all having different shapes.
 */
function eventHeadersOf(list: MessageHeader[] | undefined): EventHeaders {
  const found: EventHeaders = {};
  if (!list) return found;
  for (const entry of list) {
    for (const name in entry) {
      const raw = entry[name];
      if (raw === undefined) continue;
      const value = typeof raw === 'string' ? raw : raw.toString('utf8');
      switch (name) {
        case headers.stream:
          found.stream ??= value;
          break;
        case headers.version:
          found.version ??= value;
          break;
        case headers.type:
          found.type ??= value;
          break;
        case headers.id:
          found.id ??= value;
          break;
        case headers.metadata:
          found.metadata ??= value;
          break;
        case headers.schemaVersion:
          found.schemaVersion ??= value;
          break;
        case headers.contentType:
          found.contentType ??= value;
          break;
      }
    }
  }
  return found;
}

/** Reads a Scribe event from a Kafka record; undefined for a record that is not one. */
export function storedEventFrom(message: {
  headers?: MessageHeader[];
  value: Buffer | null;
  partition: number;
  offset: number;
  timestamp?: number;
}): StoredEvent | undefined {
  const found = eventHeadersOf(message.headers);
  const { stream: streamId, version, type, id, schemaVersion } = found;
  if (streamId === undefined || version === undefined || type === undefined || id === undefined) return undefined;
  return {
    ...(schemaVersion === undefined ? {} : { schemaVersion: Number(schemaVersion) }),
    streamId,
    version: Number(version),
    type,
    id,
    data: message.value ?? Buffer.alloc(0),
    metadata: found.metadata,
    contentType: found.contentType ?? jsonContentType,
    partition: message.partition,
    offset: message.offset,
    timestamp: message.timestamp ?? 0,
  };
}

export function recordedEvent(stored: StoredEvent): RecordedEvent {
  return {
    streamId: stored.streamId,
    version: stored.version,
    type: stored.type,
    data: decodeData(stored),
    metadata: stored.metadata === undefined ? {} : (JSON.parse(stored.metadata) as Metadata),
    id: stored.id,
    position: { partition: stored.partition, offset: String(stored.offset) },
    timestamp: new Date(stored.timestamp),
  };
}

function decodeData(stored: StoredEvent): unknown {
  // The index's encoding may hand bytes back as a Uint8Array.
  const bytes = Buffer.isBuffer(stored.data) ? stored.data : Buffer.from(stored.data);
  if (stored.contentType === jsonContentType) return bytes.length === 0 ? null : JSON.parse(bytes.toString('utf8'));
  if (stored.contentType === registryJsonContentType) return JSON.parse(bytes.subarray(5).toString('utf8'));
  return bytes;
}
