// The records of `<store>.appends` (requests to a partition's owner) and `<store>.replies`
// (its answers), as docs/record-format.md describes them. Internal to Scribe: the format may
// change between versions; an owner reads the requests of the version before this one too.
import type { MessageHeader } from '@confluentinc/kafka-javascript';
import { ScribeError } from '../errors.js';
import { headerValue } from '../records/event-record.js';
import type { AppendResult } from '../streams/event.js';
import type { ExpectedVersion } from '../streams/expected-version.js';
import { commandRefusal } from '../aggregates/command-runner.js';
import { decodeError, encodeError, type ErrorContext } from './error-codec.js';
import type { OwnerReply, RemoteRequest } from './messages.js';

const requestHeaders = { requester: 'scribe.requester', request: 'scribe.request', deadline: 'scribe.deadline' } as const;
/** The W3C trace context headers (the names OpenTelemetry's Kafka instrumentations use); optional. */
const traceHeaders = ['traceparent', 'tracestate'] as const;

interface WireEvent {
  id: string;
  type: string;
  /** base64 */
  data: string;
  metadata?: string;
  contentType: string;
  schemaVersion?: number;
}

type WireRequest =
  | { kind: 'append'; streamId: string; expectedVersion: ExpectedVersion; events: WireEvent[]; snapshot?: { snapshotVersion: number; state: string } }
  | { kind: 'command'; streamId: string; decider: string; commandId: string; payload: string }
  | { kind: 'seal'; generation: number; to: number };

/** A request of the earlier format: a command or a seal travelled as an append with extra fields. */
interface EarlierWireRequest {
  kind?: undefined;
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: WireEvent[];
  snapshot?: { snapshotVersion: number; state: string };
  command?: { decider: string; id: string; payload: string };
  handOver?: { generation: number; to: number };
}

export interface EncodedRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: MessageHeader[];
}

export function encodeRequest(request: RemoteRequest): EncodedRecord {
  let body: WireRequest;
  switch (request.kind) {
    case 'append':
      body = {
        kind: 'append',
        streamId: request.streamId,
        expectedVersion: request.expectedVersion,
        events: request.events.map((e) => ({
          id: e.id,
          type: e.type,
          data: e.data.toString('base64'),
          contentType: e.contentType,
          ...(e.metadata === undefined ? {} : { metadata: e.metadata }),
          ...(e.schemaVersion === undefined ? {} : { schemaVersion: e.schemaVersion }),
        })),
        ...(request.snapshot ? { snapshot: { snapshotVersion: request.snapshot.snapshotVersion, state: request.snapshot.state.toString('base64') } } : {}),
      };
      break;
    case 'command':
      body = { kind: 'command', streamId: request.streamId, decider: request.decider, commandId: request.commandId, payload: request.payload };
      break;
    case 'seal':
      body = { kind: 'seal', generation: request.generation, to: request.to };
      break;
  }
  return {
    // A seal concerns a partition, not a key; the requester names the partition.
    key: request.kind === 'seal' ? '' : request.partitionKey,
    value: Buffer.from(JSON.stringify(body)),
    headers: [
      { [requestHeaders.requester]: request.requester },
      { [requestHeaders.request]: request.requestId },
      { [requestHeaders.deadline]: String(request.deadline) },
      ...(request.kind === 'seal' || !request.trace ? [] : traceHeaders.flatMap((name) => (request.trace![name] === undefined ? [] : [{ [name]: request.trace![name]! }]))),
    ],
  };
}

/** The requester's trace context from a request's headers, when it sent one. */
function traceOf(headers: MessageHeader[] | undefined): { trace: Record<string, string> } | Record<string, never> {
  const traceparent = headerValue(headers, 'traceparent');
  if (traceparent === undefined) return {};
  const tracestate = headerValue(headers, 'tracestate');
  return { trace: { traceparent, ...(tracestate === undefined ? {} : { tracestate }) } };
}

/** The request, or undefined for a record that is not one (it is skipped). */
export function decodeRequest(message: { key?: string | Buffer | null; value: Buffer | null; headers?: MessageHeader[] }): RemoteRequest | undefined {
  const requester = headerValue(message.headers, requestHeaders.requester);
  const requestId = headerValue(message.headers, requestHeaders.request);
  const deadline = Number(headerValue(message.headers, requestHeaders.deadline));
  if (!requester || !requestId || !message.value) return undefined;
  const envelope = { requester, requestId, deadline };
  const trace = traceOf(message.headers);
  try {
    const body = JSON.parse(message.value.toString('utf8')) as WireRequest | EarlierWireRequest;
    const keyOr = (streamId: string) => (message.key === undefined || message.key === null ? streamId : message.key.toString());
    switch (body.kind) {
      case 'append':
        return { ...envelope, kind: 'append', streamId: body.streamId, partitionKey: keyOr(body.streamId), expectedVersion: body.expectedVersion, events: body.events.map(decodeEvent), ...snapshotOf(body.snapshot), ...trace };
      case 'command':
        return { ...envelope, kind: 'command', streamId: body.streamId, partitionKey: keyOr(body.streamId), decider: body.decider, commandId: body.commandId, payload: body.payload, ...trace };
      case 'seal':
        return { ...envelope, kind: 'seal', generation: body.generation, to: body.to };
      case undefined:
        if (body.handOver) return { ...envelope, kind: 'seal', generation: body.handOver.generation, to: body.handOver.to };
        if (body.command) {
          return { ...envelope, kind: 'command', streamId: body.streamId, partitionKey: keyOr(body.streamId), decider: body.command.decider, commandId: body.command.id, payload: body.command.payload };
        }
        return { ...envelope, kind: 'append', streamId: body.streamId, partitionKey: keyOr(body.streamId), expectedVersion: body.expectedVersion, events: body.events.map(decodeEvent), ...snapshotOf(body.snapshot) };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

function decodeEvent(e: WireEvent) {
  return {
    id: e.id,
    type: e.type,
    data: Buffer.from(e.data, 'base64'),
    metadata: e.metadata,
    contentType: e.contentType,
    ...(e.schemaVersion === undefined ? {} : { schemaVersion: e.schemaVersion }),
  };
}

function snapshotOf(snapshot: { snapshotVersion: number; state: string } | undefined) {
  return snapshot ? { snapshot: { snapshotVersion: snapshot.snapshotVersion, state: Buffer.from(snapshot.state, 'base64') } } : {};
}

/**
 * The reply to an append or a command that settled at the owner. An error that is not a
 * ScribeError can only be a decider's refusal: it travels as CommandRejectedError.
 */
export function replyOf(outcome: { readonly result?: AppendResult; readonly error?: unknown }, streamId: string): OwnerReply {
  if (outcome.result) {
    return { ok: true, nextExpectedVersion: outcome.result.nextExpectedVersion, partition: outcome.result.position.partition, offset: outcome.result.position.offset };
  }
  return { ok: false, error: outcome.error instanceof ScribeError ? outcome.error : commandRefusal(outcome.error, streamId) };
}

/**
 * A reply record. A failure is flat, `{ ok: false, code, message, ...fields }`: the field
 * names are those of the error classes, as the earlier format had them.
 */
export function encodeReply(requestId: string, reply: OwnerReply): { value: Buffer; headers: MessageHeader[] } {
  const body = reply.ok ? reply : (() => {
    const { code, message, fields } = encodeError(reply.error);
    return { ...fields, ok: false, code, message };
  })();
  return { value: Buffer.from(JSON.stringify(body)), headers: [{ [requestHeaders.request]: requestId }] };
}

/** The reply's request id, and the reply read with what the requester knows of its request. */
export function decodeReply(message: { value: Buffer | null; headers?: MessageHeader[] }): { requestId: string; read(context: ErrorContext): OwnerReply } | undefined {
  const requestId = headerValue(message.headers, requestHeaders.request);
  if (!requestId || !message.value) return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(message.value.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return {
    requestId,
    read(context) {
      if (body.ok === true) {
        return { ok: true, nextExpectedVersion: Number(body.nextExpectedVersion), partition: Number(body.partition), offset: String(body.offset) };
      }
      const { ok: _ok, code, message: text, ...fields } = body;
      return { ok: false, error: decodeError({ code, message: text, fields }, context) };
    },
  };
}
