// Appends that travel to a partition's owner through `<store>.appends`, and the owner's
// replies through `<store>.replies`. Internal to Scribe; the format may change between versions.
import type { MessageHeader } from '@confluentinc/kafka-javascript';
import type { ExpectedVersion } from '../streams/expected-version.js';
import type { EncodedEvent } from './event-record.js';
import { headerValue } from './event-record.js';

export interface AppendRequest {
  readonly requester: string;
  readonly requestId: string;
  /** Epoch ms after which the owner must not apply the request: the requester has given up. */
  readonly deadline: number;
  readonly streamId: string;
  readonly partitionKey: string;
  readonly expectedVersion: ExpectedVersion;
  /** Empty for a command. */
  readonly events: readonly EncodedEvent[];
  /** The stream's state as of the append's last event, stored with it. */
  readonly snapshot?: { readonly snapshotVersion: number; readonly state: Buffer };
  /** A command for a decider registered at the owner, decided there. */
  readonly command?: { readonly decider: string; readonly id: string; readonly payload: string };
  /** `grow` asks the owner to seal the shard moving to partition `to` (no events, no stream). */
  readonly handOver?: { readonly generation: number; readonly to: number };
}

export type AppendReply =
  | { readonly ok: true; readonly nextExpectedVersion: number; readonly partition: number; readonly offset: string }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly expected?: ExpectedVersion;
      readonly actual?: number;
      readonly eventId?: string;
      /** A refused command: the decider's error name and code. */
      readonly errorName?: string;
      readonly errorCode?: string;
      /** A command for a decider the owner does not know: its name. */
      readonly decider?: string;
    };

interface WireEvent {
  id: string;
  type: string;
  data: string;
  metadata?: string;
  contentType: string;
  schemaVersion?: number;
}

export function encodeRequest(request: AppendRequest): { key: string; value: Buffer; headers: MessageHeader[] } {
  const events: WireEvent[] = request.events.map((e) => ({
    id: e.id,
    type: e.type,
    data: e.data.toString('base64'),
    contentType: e.contentType,
    ...(e.metadata === undefined ? {} : { metadata: e.metadata }),
    ...(e.schemaVersion === undefined ? {} : { schemaVersion: e.schemaVersion }),
  }));
  return {
    key: request.partitionKey,
    value: Buffer.from(
      JSON.stringify({
        streamId: request.streamId,
        expectedVersion: request.expectedVersion,
        events,
        ...(request.snapshot ? { snapshot: { snapshotVersion: request.snapshot.snapshotVersion, state: request.snapshot.state.toString('base64') } } : {}),
        ...(request.command ? { command: request.command } : {}),
        ...(request.handOver ? { handOver: request.handOver } : {}),
      }),
    ),
    headers: [{ 'scribe.requester': request.requester }, { 'scribe.request': request.requestId }, { 'scribe.deadline': String(request.deadline) }],
  };
}

export function decodeRequest(message: { key?: string | Buffer | null; value: Buffer | null; headers?: MessageHeader[] }): AppendRequest | undefined {
  const requester = headerValue(message.headers, 'scribe.requester');
  const requestId = headerValue(message.headers, 'scribe.request');
  const deadline = Number(headerValue(message.headers, 'scribe.deadline'));
  if (!requester || !requestId || !message.value) return undefined;
  try {
    const body = JSON.parse(message.value.toString('utf8')) as {
      streamId: string;
      expectedVersion: ExpectedVersion;
      events: WireEvent[];
      snapshot?: { snapshotVersion: number; state: string };
      command?: AppendRequest['command'];
      handOver?: AppendRequest['handOver'];
    };
    return {
      requester,
      requestId,
      deadline,
      streamId: body.streamId,
      partitionKey: message.key === undefined || message.key === null ? body.streamId : message.key.toString(),
      expectedVersion: body.expectedVersion,
      events: body.events.map((e) => ({
        id: e.id,
        type: e.type,
        data: Buffer.from(e.data, 'base64'),
        metadata: e.metadata,
        contentType: e.contentType,
        ...(e.schemaVersion === undefined ? {} : { schemaVersion: e.schemaVersion }),
      })),
      ...(body.snapshot ? { snapshot: { snapshotVersion: body.snapshot.snapshotVersion, state: Buffer.from(body.snapshot.state, 'base64') } } : {}),
      ...(body.command ? { command: body.command } : {}),
      ...(body.handOver ? { handOver: body.handOver } : {}),
    };
  } catch {
    return undefined;
  }
}

export function encodeReply(requestId: string, reply: AppendReply): { value: Buffer; headers: MessageHeader[] } {
  return { value: Buffer.from(JSON.stringify(reply)), headers: [{ 'scribe.request': requestId }] };
}

export function decodeReply(message: { value: Buffer | null; headers?: MessageHeader[] }): { requestId: string; reply: AppendReply } | undefined {
  const requestId = headerValue(message.headers, 'scribe.request');
  if (!requestId || !message.value) return undefined;
  return { requestId, reply: JSON.parse(message.value.toString('utf8')) as AppendReply };
}
