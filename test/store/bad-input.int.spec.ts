// Bad input is answered with a typed error and a stable code, and changes nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventStore, InvalidArgumentError, InvalidEventError, StoreClosedError, type RecordedEvent } from '../../src/index.js';

const brokers = inject('brokers');

describe('bad input', () => {
  let store: EventStore;
  const streamId = 'account-bad-input';

  beforeAll(async () => {
    store = await EventStore.connect({ brokers, store: `bad-${randomUUID().slice(0, 8)}`, partitions: 2, dataDir: `.scribe/test/${randomUUID()}` });
    await store.append(streamId, [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });
  });
  afterAll(() => store?.close());

  async function versionsOf(id: string): Promise<number[]> {
    const out: RecordedEvent[] = [];
    for await (const e of store.readStream(id)) out.push(e);
    return out.map((e) => e.version);
  }

  const cases: [string, () => Promise<unknown>, new (...args: never[]) => Error, string, RegExp][] = [
    ['an empty stream id', () => store.append('', [{ type: 'A', data: {} }], { expectedVersion: 'any' }), InvalidArgumentError, 'INVALID_ARGUMENT', /streamId: must not be empty/],
    ['an over-long stream id', () => store.append('x'.repeat(257), [{ type: 'A', data: {} }], { expectedVersion: 'any' }), InvalidArgumentError, 'INVALID_ARGUMENT', /at most 256 UTF-8 bytes/],
    ['a stream id that is not a string', () => store.append(42 as unknown as string, [{ type: 'A', data: {} }], { expectedVersion: 'any' }), InvalidArgumentError, 'INVALID_ARGUMENT', /must be a string/],
    ['an event without a type', () => store.append(streamId, [{ data: {} } as never], { expectedVersion: 0 }), InvalidEventError, 'INVALID_EVENT', /has no type/],
    ['data that is not JSON-serialisable (BigInt)', () => store.append(streamId, [{ type: 'A', data: { n: 1n } }], { expectedVersion: 0 }), InvalidEventError, 'INVALID_EVENT', /not JSON-serialisable: a BigInt/],
    ['data that is not JSON-serialisable (cycle)', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      return store.append(streamId, [{ type: 'A', data: cyclic }], { expectedVersion: 0 });
    }, InvalidEventError, 'INVALID_EVENT', /not JSON-serialisable/],
    ['undefined data', () => store.append(streamId, [{ type: 'A', data: undefined }], { expectedVersion: 0 }), InvalidEventError, 'INVALID_EVENT', /use null/],
    ['an event over the maximum size', () => store.append(streamId, [{ type: 'A', data: 'x'.repeat(1_100_000) }], { expectedVersion: 0 }), InvalidEventError, 'INVALID_EVENT', /at most/],
    ['no events', () => store.append(streamId, [], { expectedVersion: 0 }), InvalidArgumentError, 'INVALID_ARGUMENT', /at least one event/],
    ['the same event id twice', () => store.append(streamId, [{ id: 'same', type: 'A', data: 1 }, { id: 'same', type: 'A', data: 2 }], { expectedVersion: 0 }), InvalidEventError, 'INVALID_EVENT', /appears twice/],
    ['an invalid expectedVersion (-2)', () => store.append(streamId, [{ type: 'A', data: {} }], { expectedVersion: -2 }), InvalidArgumentError, 'INVALID_ARGUMENT', /expectedVersion/],
    ['an invalid expectedVersion (a word)', () => store.append(streamId, [{ type: 'A', data: {} }], { expectedVersion: 'latest' as never }), InvalidArgumentError, 'INVALID_ARGUMENT', /expectedVersion/],
    ['a missing expectedVersion', () => store.append(streamId, [{ type: 'A', data: {} }], {} as never), InvalidArgumentError, 'INVALID_ARGUMENT', /expectedVersion: is required/],
    ['a fractional expectedVersion', () => store.append(streamId, [{ type: 'A', data: {} }], { expectedVersion: 1.5 }), InvalidArgumentError, 'INVALID_ARGUMENT', /expectedVersion/],
  ];

  for (const [name, call, errorClass, code, message] of cases) {
    it(`refuses ${name} with ${errorClass.name} (${code}) and changes nothing`, async () => {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(errorClass);
      expect((error as { code: string }).code).toBe(code);
      expect((error as Error).message).toMatch(message);
      expect(await versionsOf(streamId)).toEqual([0]);
    });
  }

  it('refuses connect options that make no sense', async () => {
    await expect(EventStore.connect({ brokers, store: 'bad name with spaces' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(EventStore.connect({ brokers, store: 'ok', partitions: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(EventStore.connect({ brokers: ['not-a-broker'], store: 'ok' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses appends, reads and subscriptions after close() with StoreClosedError', async () => {
    const closing = await EventStore.connect({ brokers, store: `closed-${randomUUID().slice(0, 8)}`, partitions: 1, dataDir: `.scribe/test/${randomUUID()}` });
    await closing.close();
    await expect(closing.append('s', [{ type: 'A', data: {} }], { expectedVersion: 'any' })).rejects.toBeInstanceOf(StoreClosedError);
    await expect(closing.readStream('s').next()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(closing.subscribe({}, () => undefined)).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
