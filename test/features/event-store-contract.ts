// The behaviour every EventStore keeps, written once and run against each backend: the
// in-memory store (test/features/in-memory.spec.ts) and the Kafka store on a real broker
// (test/features/kafka.int.spec.ts). A rule that holds on one and not the other is a bug.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeciderNotRegisteredError,
  EventIdConflictError,
  EventSchemas,
  InvalidArgumentError,
  StoreClosedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type Decider,
  type EventStore,
  type RecordedEvent,
  type UnknownEventPolicy,
} from '../../src/index.js';
import { account, AccountError, type Account, type AccountCommand, type AccountEvent } from '../../examples/bank-account.js';

export interface StoreOptions {
  readonly schemas?: EventSchemas;
  readonly onUnknownEvent?: UnknownEventPolicy;
}

export interface Backend {
  /** A new store; the suite gives each test its own streams. */
  open(): Promise<EventStore>;
  /** Another store over the same events, as another process connected to the same store. */
  another(store: EventStore, options: StoreOptions): Promise<EventStore>;
}

async function collect(iterable: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

/** Resolves once `until` holds for what the handler collected, or fails after `ms`. */
async function eventually(until: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!until()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the subscription');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const accountWithSnapshots: Decider<Account, AccountCommand, AccountEvent> = { ...account, snapshot: { every: 2 } };

export function eventStoreContract(name: string, backend: Backend): void {
  describe(`the EventStore contract: ${name}`, () => {
    let store: EventStore;
    const opened: EventStore[] = [];
    const id = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      store = await backend.open();
      opened.push(store);
    });
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    describe('appends and reads', () => {
      it('numbers a stream from version 0 and reads it back in order, with positions that grow', async () => {
        const stream = id('order');
        const first = await store.append(stream, [{ type: 'Placed', data: { items: 2 }, metadata: { by: 'ada' } }], { expectedVersion: 'no_stream' });
        const second = await store.append(stream, [{ type: 'Paid', data: { amount: 5 } }, { type: 'Shipped', data: {} }], { expectedVersion: 0 });
        expect(first.nextExpectedVersion).toBe(0);
        expect(second.nextExpectedVersion).toBe(2);
        const events = await collect(store.readStream(stream));
        expect(events.map((e) => [e.streamId, e.version, e.type, e.data])).toEqual([
          [stream, 0, 'Placed', { items: 2 }],
          [stream, 1, 'Paid', { amount: 5 }],
          [stream, 2, 'Shipped', {}],
        ]);
        expect(events[0]!.metadata).toEqual({ by: 'ada' });
        expect(events[2]!.position).toEqual(second.position);
        expect(BigInt(events[1]!.position.offset)).toBeGreaterThan(BigInt(events[0]!.position.offset));
      });

      it('reads backwards, from a version, and at most maxCount events', async () => {
        const stream = id('counter');
        await store.append(stream, [0, 1, 2, 3, 4].map((n) => ({ type: 'Counted', data: { n } })), { expectedVersion: 'no_stream' });
        expect((await collect(store.readStream(stream, { direction: 'backwards', maxCount: 2 }))).map((e) => e.version)).toEqual([4, 3]);
        expect((await collect(store.readStream(stream, { fromVersion: 3 }))).map((e) => e.version)).toEqual([3, 4]);
        expect((await collect(store.readStream(stream, { fromVersion: 2, direction: 'backwards' }))).map((e) => e.version)).toEqual([2, 1, 0]);
      });

      it('a stream with no events is StreamNotFoundError', async () => {
        await expect(collect(store.readStream(id('nothing')))).rejects.toBeInstanceOf(StreamNotFoundError);
      });
    });

    describe('optimistic concurrency (I2)', () => {
      it('an append at another version than expected is WrongExpectedVersionError and writes nothing', async () => {
        const stream = id('doc');
        await store.append(stream, [{ type: 'Written', data: {} }], { expectedVersion: 'no_stream' });
        const refusals = await Promise.allSettled([
          store.append(stream, [{ type: 'Written', data: {} }], { expectedVersion: 'no_stream' }),
          store.append(stream, [{ type: 'Written', data: {} }], { expectedVersion: 5 }),
          store.append(id('absent'), [{ type: 'Written', data: {} }], { expectedVersion: 'stream_exists' }),
        ]);
        for (const refusal of refusals) {
          expect(refusal.status).toBe('rejected');
          expect((refusal as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
        }
        const conflict = (refusals[1] as PromiseRejectedResult).reason as WrongExpectedVersionError;
        expect([conflict.code, conflict.expected, conflict.actual]).toEqual(['WRONG_EXPECTED_VERSION', 5, 0]);
        expect((await collect(store.readStream(stream))).length).toBe(1);
      });

      it("'any' appends whatever the version, and 'stream_exists' once the stream has an event", async () => {
        const stream = id('log');
        await store.append(stream, [{ type: 'Line', data: {} }], { expectedVersion: 'any' });
        await store.append(stream, [{ type: 'Line', data: {} }], { expectedVersion: 'stream_exists' });
        const last = await store.append(stream, [{ type: 'Line', data: {} }], { expectedVersion: 'any' });
        expect(last.nextExpectedVersion).toBe(2);
      });
    });

    describe('idempotent appends (I4)', () => {
      it('a retry with the same event ids answers as the first time and stores the events once', async () => {
        const stream = id('payment');
        const events = [{ id: randomUUID(), type: 'Charged', data: { cents: 100 } }, { id: randomUUID(), type: 'Receipted', data: {} }];
        const first = await store.append(stream, events, { expectedVersion: 'no_stream' });
        const retry = await store.append(stream, events, { expectedVersion: 'no_stream' });
        expect(retry).toEqual(first);
        expect((await collect(store.readStream(stream))).map((e) => e.id)).toEqual(events.map((e) => e.id));
      });

      it('event ids stored in another stream, or only some of them stored, are EventIdConflictError', async () => {
        const eventId = randomUUID();
        await store.append(id('a'), [{ id: eventId, type: 'Happened', data: {} }], { expectedVersion: 'any' });
        await expect(store.append(id('b'), [{ id: eventId, type: 'Happened', data: {} }], { expectedVersion: 'any' })).rejects.toBeInstanceOf(EventIdConflictError);
        const stream = id('c');
        const stored = randomUUID();
        await store.append(stream, [{ id: stored, type: 'Happened', data: {} }], { expectedVersion: 'any' });
        await expect(store.append(stream, [{ id: stored, type: 'Happened', data: {} }, { id: randomUUID(), type: 'Happened', data: {} }], { expectedVersion: 'any' })).rejects.toBeInstanceOf(
          EventIdConflictError,
        );
        expect((await collect(store.readStream(stream))).length).toBe(1);
      });
    });

    describe('bad input', () => {
      it('is refused with INVALID_ARGUMENT naming the argument, and nothing is written', async () => {
        const stream = id('strict');
        const refusals: [Promise<unknown>, string][] = [
          [store.append('', [{ type: 'T', data: {} }], { expectedVersion: 'any' }), 'streamId'],
          [store.append(stream, [{ type: 'T', data: {} }], undefined as never), 'expectedVersion'],
          [store.append(stream, [{ type: 'T', data: {} }], { expectedVersion: 'sometimes' as never }), 'expectedVersion'],
          [store.append(stream, [], { expectedVersion: 'any' }), 'events'],
          [store.append(stream, [{ type: 'T', data: {} }], { expectedVersion: 'any', partitionKey: 7 as never }), 'options.partitionKey'],
          [collect(store.readStream(stream, { maxCount: 0 })), 'options.maxCount'],
          [store.execute('', stream, {}), 'name'],
        ];
        for (const [refused, argument] of refusals) {
          const error = await refused.then(() => undefined, (e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidArgumentError);
          expect((error as InvalidArgumentError).argument).toBe(argument);
        }
        await expect(collect(store.readStream(stream))).rejects.toBeInstanceOf(StreamNotFoundError);
      });
    });

    describe('commands', () => {
      it('handle decides against the loaded state and appends at the version it loaded', async () => {
        const stream = id('account');
        await store.handle(account, stream, { type: 'Open', owner: 'ada' });
        const result = await store.handle(account, stream, { type: 'Deposit', amount: 30 });
        expect(result.state).toEqual({ open: true, balance: 30 });
        expect(result.nextExpectedVersion).toBe(1);
        expect(result.events).toEqual([{ type: 'Deposited', data: { amount: 30 } }]);
      });

      it("handle: the decider's refusal reaches the caller unchanged and writes nothing", async () => {
        const stream = id('account');
        await store.handle(account, stream, { type: 'Open', owner: 'ada' });
        await expect(store.handle(account, stream, { type: 'Withdraw', amount: 1 })).rejects.toBeInstanceOf(AccountError);
        expect((await store.load(account, stream)).version).toBe(0);
      });

      it('handle: concurrent commands on one stream all apply, the losers decide again', async () => {
        const stream = id('account');
        await store.handle(account, stream, { type: 'Open', owner: 'ada' });
        const results = await Promise.all([1, 2, 3, 4].map((amount) => store.handle(account, stream, { type: 'Deposit', amount })));
        expect(results.map((r) => r.nextExpectedVersion).sort()).toEqual([1, 2, 3, 4]);
        expect((await store.load(account, stream)).state.balance).toBe(10);
      });

      it('execute runs the registered decider at the owner; a retry with the same commandId applies it once', async () => {
        const stream = id('account');
        store.register('account', account);
        await store.execute('account', stream, { type: 'Open', owner: 'ada' });
        const commandId = randomUUID();
        const first = await store.execute<AccountEvent>('account', stream, { type: 'Deposit', amount: 12 }, { commandId });
        const retry = await store.execute<AccountEvent>('account', stream, { type: 'Deposit', amount: 12 }, { commandId });
        expect(first.events).toEqual([{ type: 'Deposited', data: { amount: 12 } }]);
        expect(retry).toEqual(first);
        expect((await store.load(account, stream)).state.balance).toBe(12);
      });

      it('execute: a refused command writes nothing; an unknown decider is DeciderNotRegisteredError', async () => {
        const stream = id('account');
        store.register('account', account);
        await store.execute('account', stream, { type: 'Open', owner: 'ada' });
        await expect(store.execute('account', stream, { type: 'Withdraw', amount: 5 })).rejects.toThrow(/balance 0 < 5/);
        await expect(store.execute(`nobody-${randomUUID().slice(0, 4)}`, stream, {})).rejects.toBeInstanceOf(DeciderNotRegisteredError);
        expect((await store.load(account, stream)).version).toBe(0);
      });

      it('load starts from the latest snapshot of the decider and folds the events after it', async () => {
        const stream = id('account');
        for (const command of [{ type: 'Open', owner: 'ada' }, { type: 'Deposit', amount: 1 }, { type: 'Deposit', amount: 2 }] as const) {
          await store.handle(accountWithSnapshots, stream, command);
        }
        const loaded = await store.load(accountWithSnapshots, stream);
        expect(loaded.state).toEqual({ open: true, balance: 3 });
        expect(loaded.version).toBe(2);
        expect(loaded.fromSnapshot).toBe(1);
      });
    });

    describe('event versions', () => {
      it('events written before a new schema version are upcast on every read path', async () => {
        const stream = id('account');
        await store.append(stream, [{ type: 'Opened', data: { owner: 'ada' } }, { type: 'Deposited', data: { amount: 7 } }], { expectedVersion: 'no_stream' });
        const schemas = new EventSchemas()
          .define('Opened', 1, { type: 'object', required: ['owner'] })
          .define('Opened', 2, { type: 'object', required: ['owner', 'currency'] }, { upcast: (data) => ({ ...(data as object), currency: 'EUR' }) })
          .define('Deposited', 1, { type: 'object', required: ['amount'] })
          .define('Deposited', 2, { type: 'object', required: ['cents'] }, { upcast: (data) => ({ cents: (data as { amount: number }).amount * 100 }) });
        // The store holds the other tests' events too: types this catalog does not define are skipped.
        const upgraded = await backend.another(store, { schemas, onUnknownEvent: 'skip' });
        opened.push(upgraded);
        const read = await collect(upgraded.readStream(stream));
        expect(read.map((e) => [e.type, e.schemaVersion, e.data])).toEqual([
          ['Opened', 2, { owner: 'ada', currency: 'EUR' }],
          ['Deposited', 2, { cents: 700 }],
        ]);
        const cents: Decider<number, never, { type: string; data: { cents?: number } }> = {
          initialState: () => 0,
          evolve: (total, event) => total + (event.data.cents ?? 0),
          decide: () => [],
        };
        expect((await upgraded.load(cents, stream)).state).toBe(700);
        const seen: RecordedEvent[] = [];
        const subscription = await upgraded.subscribe({ from: 'start' }, (event) => {
          if (event.streamId === stream) seen.push(event);
        });
        await eventually(() => seen.length === 2);
        await subscription.stop();
        expect(seen.map((e) => e.data)).toEqual(read.map((e) => e.data));
        await expect(upgraded.append(stream, [{ type: 'Deposited', data: { amount: 1 } }], { expectedVersion: 1 })).rejects.toMatchObject({ code: 'INVALID_EVENT' });
      });
    });

    describe('subscriptions', () => {
      it('deliver every event of a stream in order, catch-up then live', async () => {
        const stream = id('feed');
        await store.append(stream, [{ type: 'Old', data: { n: 0 } }], { expectedVersion: 'no_stream' });
        const seen: number[] = [];
        const subscription = await store.subscribe({ from: 'start' }, (event) => {
          if (event.streamId === stream) seen.push(event.version);
        });
        await eventually(() => seen.length === 1);
        await store.append(stream, [{ type: 'New', data: { n: 1 } }, { type: 'New', data: { n: 2 } }], { expectedVersion: 0 });
        await eventually(() => seen.length === 3);
        await subscription.stop();
        await subscription.done;
        expect(seen).toEqual([0, 1, 2]);
      });

      it('a named subscription resumes after its checkpoint', async () => {
        const stream = id('feed');
        const name = id('reader');
        await store.append(stream, [{ type: 'E', data: {} }], { expectedVersion: 'no_stream' });
        const first: number[] = [];
        const one = await store.subscribe({ name, from: 'start' }, (event) => {
          if (event.streamId === stream) first.push(event.version);
        });
        await eventually(() => first.length === 1);
        await one.stop();
        await store.append(stream, [{ type: 'E', data: {} }], { expectedVersion: 0 });
        const second: number[] = [];
        const two = await store.subscribe({ name, from: 'start' }, (event) => {
          if (event.streamId === stream) second.push(event.version);
        });
        await eventually(() => second.length === 1);
        await two.stop();
        expect(second).toEqual([1]);
      });

      it("a handler's error ends the subscription: done rejects with it", async () => {
        const stream = id('poison');
        await store.append(stream, [{ type: 'Bad', data: {} }], { expectedVersion: 'no_stream' });
        const subscription = await store.subscribe({ from: 'start' }, (event) => {
          if (event.streamId === stream) throw new Error(`cannot handle ${event.type}`);
        });
        await expect(subscription.done).rejects.toThrow('cannot handle Bad');
      });
    });

    describe('closing', () => {
      it('every operation after close is StoreClosedError', async () => {
        const closing = await backend.another(store, {});
        await closing.close();
        await expect(closing.append(id('late'), [{ type: 'T', data: {} }], { expectedVersion: 'any' })).rejects.toBeInstanceOf(StoreClosedError);
        await expect(closing.load(account, id('late'))).rejects.toBeInstanceOf(StoreClosedError);
        expect(() => closing.register('account', account)).toThrow(StoreClosedError);
      });
    });
  });
}
