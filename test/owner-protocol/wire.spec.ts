// The records of `<store>.appends` and `<store>.replies`: each kind of request and reply
// survives the trip, and an owner still reads the requests of the earlier format.
import { describe, expect, it } from 'vitest';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, replyOf } from '../../src/owner-protocol/wire.js';
import type { RemoteRequest } from '../../src/owner-protocol/messages.js';
import { CommandRejectedError, InvalidEventError, WrongExpectedVersionError } from '../../src/streams/errors.js';

const envelope = { requester: 'r-1', requestId: 'q-1', deadline: 1_800_000_000_000 };
const event = { id: 'e-1', type: 'Opened', data: Buffer.from('{"owner":"ann"}'), metadata: '{"by":"test"}', contentType: 'application/json', schemaVersion: 2 };

/** A record as the consumer hands it over. */
const asMessage = (record: { key?: string; value: Buffer; headers: Record<string, string | Buffer>[] }) => ({ key: record.key === undefined ? null : Buffer.from(record.key), value: record.value, headers: record.headers });

describe('requests to the owner', () => {
  it.each<[string, RemoteRequest]>([
    ['an append', { ...envelope, kind: 'append', streamId: 's-1', partitionKey: 'tenant-1', expectedVersion: 4, events: [event], snapshot: { snapshotVersion: 1, state: Buffer.from([1, 2, 3]) } }],
    ['an append with no snapshot', { ...envelope, kind: 'append', streamId: 's-1', partitionKey: 's-1', expectedVersion: 'no_stream', events: [{ ...event, metadata: undefined }] }],
    ['a command', { ...envelope, kind: 'command', streamId: 's-2', partitionKey: 's-2', decider: 'account', commandId: 'c-1', payload: '{"type":"Open"}' }],
    ['a seal', { ...envelope, kind: 'seal', generation: 2, to: 7 }],
  ])('%s travels as itself', (_name, request) => {
    expect(decodeRequest(asMessage(encodeRequest(request)))).toEqual(request);
  });

  it('reads requests of the earlier format: a command or a seal that travelled as an append', () => {
    const earlier = (body: object, key: string) => asMessage({ key, value: Buffer.from(JSON.stringify(body)), headers: [{ 'scribe.requester': 'r-1' }, { 'scribe.request': 'q-1' }, { 'scribe.deadline': '5' }] });
    expect(decodeRequest(earlier({ streamId: 's', expectedVersion: 'any', events: [], command: { decider: 'd', id: 'c', payload: '{}' } }, 's'))).toEqual({
      requester: 'r-1', requestId: 'q-1', deadline: 5, kind: 'command', streamId: 's', partitionKey: 's', decider: 'd', commandId: 'c', payload: '{}',
    });
    expect(decodeRequest(earlier({ streamId: '', expectedVersion: 'any', events: [], handOver: { generation: 1, to: 3 } }, ''))).toEqual({ requester: 'r-1', requestId: 'q-1', deadline: 5, kind: 'seal', generation: 1, to: 3 });
    expect(decodeRequest(earlier({ streamId: 's', expectedVersion: 0, events: [{ id: 'e', type: 'T', data: 'e30=', contentType: 'application/json' }] }, 'k'))).toMatchObject({ kind: 'append', streamId: 's', partitionKey: 'k', expectedVersion: 0 });
  });

  it("carries the requester's trace context in W3C headers, and reads requests without one as before", () => {
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=abc' };
    const append: RemoteRequest = { ...envelope, kind: 'append', streamId: 's-1', partitionKey: 's-1', expectedVersion: 0, events: [event], trace };
    const record = encodeRequest(append);
    expect(record.headers).toContainEqual({ traceparent: trace.traceparent });
    expect(record.headers).toContainEqual({ tracestate: 'vendor=abc' });
    expect(decodeRequest(asMessage(record))).toEqual(append);
    const command: RemoteRequest = { ...envelope, kind: 'command', streamId: 's-2', partitionKey: 's-2', decider: 'account', commandId: 'c-1', payload: '{}', trace: { traceparent: trace.traceparent } };
    expect(decodeRequest(asMessage(encodeRequest(command)))).toEqual(command);
    // A request of an owner of the version before this one (no trace headers) has no trace.
    expect(decodeRequest(asMessage(encodeRequest({ ...append, trace: undefined } as RemoteRequest)))).not.toHaveProperty('trace');
  });

  it('skips a record that is not a request', () => {
    expect(decodeRequest({ value: Buffer.from('{}'), headers: [] })).toBeUndefined();
    expect(decodeRequest(asMessage({ value: Buffer.from('not json'), headers: [{ 'scribe.requester': 'r' }, { 'scribe.request': 'q' }] }))).toBeUndefined();
  });
});

describe('replies from the owner', () => {
  const context = { streamId: 's-1', partition: 3 };
  const trip = (reply: ReturnType<typeof replyOf>) => {
    const decoded = decodeReply(encodeReply('q-1', reply))!;
    expect(decoded.requestId).toBe('q-1');
    return decoded.read(context);
  };

  it('a success carries the position of the last event', () => {
    expect(trip(replyOf({ result: { nextExpectedVersion: 5, position: { partition: 3, offset: '12345678901234' } } }, 's-1'))).toEqual({ ok: true, nextExpectedVersion: 5, partition: 3, offset: '12345678901234' });
  });

  it('an error keeps its class and fields (an invalid event keeps its index)', () => {
    const reply = trip(replyOf({ error: new InvalidEventError(3, 'too large') }, 's-1'));
    expect(reply.ok).toBe(false);
    const error = (reply as { error: unknown }).error;
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error).toMatchObject({ index: 3, message: 'event 3: too large' });
  });

  it('a decider\'s own error becomes CommandRejectedError with its name and code', () => {
    const own = Object.assign(new RangeError('balance too low'), { code: 'INSUFFICIENT_FUNDS' });
    const error = (trip(replyOf({ error: own }, 's-1')) as { error: unknown }).error;
    expect(error).toBeInstanceOf(CommandRejectedError);
    expect(error).toMatchObject({ streamId: 's-1', errorName: 'RangeError', errorCode: 'INSUFFICIENT_FUNDS', message: 'command on "s-1" refused: RangeError: balance too low' });
  });

  it('reads a failure of the earlier (flat) format', () => {
    const earlier = { value: Buffer.from(JSON.stringify({ ok: false, code: 'WRONG_EXPECTED_VERSION', message: 'stream "s-1" is at version 2, the append expected version 1', expected: 1, actual: 2 })), headers: [{ 'scribe.request': 'q-9' }] };
    const error = (decodeReply(earlier)!.read(context) as { error: unknown }).error;
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ streamId: 's-1', expected: 1, actual: 2 });
  });
});
