// What a process that does not own a stream's partition answers when its request to the owner
// cannot be sent: a definite refusal by the broker is never an unknown outcome.
import rdkafka from '@confluentinc/kafka-javascript';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { AuthorizationError, kafkaError } from '../../src/kafka/index.js';
import { RemoteAppends } from '../../src/store/remote-appends.js';
import { AppendOutcomeUnknownError, AppendRefusedError } from '../../src/streams/errors.js';

const codes = rdkafka.CODES.ERRORS;

/** A RemoteAppends whose producer fails every send with `code`, classified as the producer does. */
function failingWith(code: number): RemoteAppends {
  const producer = { send: () => Promise.reject(kafkaError('produce', { message: `broker code ${code}`, code, errno: code, origin: 'test' }, { TOPIC: 's.appends' })), refreshMetadata: () => Promise.resolve() };
  const Constructor = RemoteAppends as unknown as new (...args: unknown[]) => RemoteAppends;
  return new Constructor(producer, {}, 'requester', { appends: 's.appends', replies: 's.replies' });
}

const event = { id: 'e1', type: 'A', data: Buffer.from('{}'), metadata: undefined, contentType: 'application/json' };
const append = { kind: 'append' as const, streamId: 's', partitionKey: 's', expectedVersion: 'any' as const, events: [event] };

describe('a request to the owner that the broker refuses', () => {
  it.each([
    ['too large (MSG_SIZE_TOO_LARGE)', codes.ERR_MSG_SIZE_TOO_LARGE, InvalidArgumentError, /^events: the append was refused by the broker as too large/],
    ['too large (RECORD_LIST_TOO_LARGE)', codes.ERR_RECORD_LIST_TOO_LARGE, InvalidArgumentError, /^events: /],
    ['not authorized for the topic', codes.ERR_TOPIC_AUTHORIZATION_FAILED, AuthorizationError, /^produce: not authorized to WRITE TOPIC s\.appends/],
    ['an invalid record', codes.ERR_INVALID_RECORD, AppendRefusedError, /refused by the broker and not stored/],
  ])('%s is a definite refusal, nothing stored, not retriable', async (_name, code, errorClass, message) => {
    const error = await failingWith(code).ownerOf(0).append(append, 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toMatch(message);
    expect((error as { retriable: boolean }).retriable).toBe(false);
  });

  it('a command refused as too large names the command', async () => {
    const error = await failingWith(codes.ERR_MSG_SIZE_TOO_LARGE).ownerOf(0).execute({ kind: 'command', streamId: 's', partitionKey: 's', decider: 'd', commandId: 'c', payload: '{}' }, 1_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'command' });
  });

  it('a timed-out send stays an unknown outcome (it may have been written)', async () => {
    const error = await failingWith(codes.ERR__MSG_TIMED_OUT).ownerOf(0).append(append, 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendOutcomeUnknownError);
  });

  it('a send the broker never acknowledges ends at the append timeout as an unknown outcome (not at librdkafka\'s 5 minutes)', async () => {
    const remote = failingWith(codes.ERR__MSG_TIMED_OUT);
    (remote as unknown as { producer: { send: () => Promise<never> } }).producer.send = () => new Promise<never>(() => undefined);
    const started = Date.now();
    const error = await remote.ownerOf(0).append(append, 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppendOutcomeUnknownError);
    expect((error as Error).message).toMatch(/not acknowledged by the broker within 300 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a request larger than the appends topic accepts is refused before it is sent', async () => {
    let sent = 0;
    const remote = failingWith(codes.ERR__MSG_TIMED_OUT);
    (remote as unknown as { producer: { send: () => Promise<never> } }).producer.send = () => {
      sent++;
      return Promise.reject(new Error('unreachable'));
    };
    const large = { ...event, data: Buffer.alloc(800_000, 'x') };
    const error = await remote.ownerOf(0).append({ ...append, events: [large] }, 1_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'events' });
    expect((error as Error).message).toMatch(/^events: the append is \d+ bytes as a request to the owner of partition 0; at most 998976 bytes/);
    expect(sent).toBe(0);
  });
});
