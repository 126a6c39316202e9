// Bad input against a real broker: every public entry point answers it with a typed error and
// a stable code (or succeeds), within a bound, without an unhandled rejection, writes nothing
// for a refused call (checked on the raw topics), never affects another caller's append, and
// leaves the store usable. The broker-free fuzzing of each check is test/store/validation.spec.ts;
// here a smaller sample runs through the store itself.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  CommandRejectedError,
  EventSchemas,
  EventStore,
  InvalidArgumentError,
  InvalidEventError,
  ScribeError,
  StoreClosedError,
  TimeoutError,
  type Decider,
  type RecordedEvent,
  type KafkaEventStore,
} from '../../src/index.js';
import { KafkaAdmin } from '../../src/kafka/index.js';
import { topicNames } from '../../src/store/topics.js';

const brokers = inject('brokers');
const dataDir = () => `.scribe/test/${randomUUID()}`;

/** Every code a refusal of bad input may carry. */
const inputCodes = ['INVALID_ARGUMENT', 'INVALID_EVENT', 'STREAM_NOT_FOUND', 'WRONG_EXPECTED_VERSION', 'COMMAND_REJECTED', 'DECIDER_NOT_REGISTERED'];

interface Counter {
  count: number;
}
const counter: Decider<Counter, { by?: unknown }, { type: 'Counted'; data: { by: unknown } }> = {
  initialState: () => ({ count: 0 }),
  evolve: (state) => ({ count: state.count + 1 }),
  decide: (command) => [{ type: 'Counted', data: { by: command?.by ?? 1 } }],
};

function threads(): number {
  return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

async function settle<T>(call: () => Promise<T>, boundMs = 20_000): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung for more than ${boundMs} ms`)), boundMs);
  });
  try {
    return { ok: true, value: await Promise.race([Promise.resolve().then(call), hang]) };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('hung for')) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

describe('bad input', () => {
  let store: KafkaEventStore;
  /** A second process's view of the same store: it owns no partition, so its appends and commands go through `<store>.appends`. */
  let client: KafkaEventStore;
  let admin: KafkaAdmin;
  const name = `bad-${randomUUID().slice(0, 8)}`;
  const topics = topicNames(name);
  const streamId = 'account-bad-input';
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    admin = KafkaAdmin.connect({ brokers });
    store = await EventStore.connect({ brokers, store: name, partitions: 2, dataDir: dataDir() });
    client = await EventStore.connect({ brokers, store: name, writer: false, dataDir: dataDir(), appendTimeoutMs: 10_000 });
    store.register('counter', counter);
    await store.append(streamId, [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });
  });
  afterAll(async () => {
    await client?.close();
    await store?.close();
    admin?.disconnect();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  /** Records in the store's raw topics (events and append requests), aborted ones included. */
  /**
   * The offsets taken in the raw topics, once every transaction's markers are written: a commit
   * returns before the coordinator writes its markers, which take offsets of their own.
   */
  async function rawRecords(): Promise<number> {
    for (const deadline = Date.now() + 10_000; ; ) {
      let total = 0;
      let open = false;
      for (const topic of [topics.events, topics.appends]) {
        const [ends, stable] = await Promise.all([admin.endOffsets(topic, [0, 1]), admin.endOffsets(topic, [0, 1], 'read_committed')]);
        for (const [partition, end] of ends) {
          total += end;
          if (stable.get(partition) !== end) open = true;
        }
      }
      if (!open || Date.now() > deadline) return total;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function versionsOf(id: string, from: KafkaEventStore = store): Promise<number[]> {
    const out: RecordedEvent[] = [];
    for await (const e of from.readStream(id)) out.push(e);
    return out.map((e) => e.version);
  }

  /** The call is refused with `code` and a message matching `message`, and nothing reaches the raw topics. */
  async function expectRefused(call: () => Promise<unknown>, code: string, message: RegExp): Promise<ScribeError> {
    const before = await rawRecords();
    const outcome = await settle(call);
    expect(outcome.ok, 'the call was accepted').toBe(false);
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(ScribeError);
    expect((error as ScribeError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
    expect(await rawRecords()).toBe(before);
    return error as ScribeError;
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
    ['an expectedVersion that is a BigInt (0n)', () => store.append(streamId, [{ type: 'A', data: {} }], { expectedVersion: 0n as never }), InvalidArgumentError, 'INVALID_ARGUMENT', /^expectedVersion: 0n/],
    ['a missing expectedVersion', () => store.append(streamId, [{ type: 'A', data: {} }], {} as never), InvalidArgumentError, 'INVALID_ARGUMENT', /expectedVersion: is required/],
    ['a fractional expectedVersion', () => store.append(streamId, [{ type: 'A', data: {} }], { expectedVersion: 1.5 }), InvalidArgumentError, 'INVALID_ARGUMENT', /expectedVersion/],
    // eslint-disable-next-line no-sparse-arrays
    ['a sparse array of events ([ , event])', () => store.append(streamId, [, { type: 'A', data: {} }] as never, { expectedVersion: 0 }), InvalidEventError, 'INVALID_EVENT', /^event 0: is missing: the events array has a hole/],
    ['new Array(2) as events', () => store.append(streamId, new Array(2), { expectedVersion: 0 }), InvalidEventError, 'INVALID_EVENT', /^event 0: is missing/],
  ];

  for (const [title, call, errorClass, code, message] of cases) {
    it(`refuses ${title} with ${errorClass.name} (${code}), writes nothing and leaves the stream as it was`, async () => {
      const error = await expectRefused(call, code, message);
      expect(error).toBeInstanceOf(errorClass);
      expect(await versionsOf(streamId)).toEqual([0]);
    });
  }

  it('never lets one caller’s bad append affect another’s good one batched with it', async () => {
    const good = `good-${randomUUID()}`;
    const [bad, ok] = await Promise.allSettled([
      store.append(streamId, new Array(2), { expectedVersion: 0 }),
      store.append(good, [{ type: 'A', data: 1 }], { expectedVersion: 'no_stream' }),
    ]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(InvalidEventError);
    expect(ok.status).toBe('fulfilled');
    expect(await versionsOf(good)).toEqual([0]);
  });

  it('never lets a command whose decider misbehaves affect an append or a command batched with it on the same partition', async () => {
    const good = `good-${randomUUID()}`;
    const partition = store.partitionOf(good);
    let bad = `bad-${randomUUID()}`;
    while (store.partitionOf(bad) !== partition) bad = `bad-${randomUUID()}`;
    store.register('holey', { ...counter, decide: () => new Array(2) as never });
    store.register('broken-events', { ...counter, decide: () => [{ type: 'Counted' as const, data: { by: 1n } }] });
    const outcomes = await Promise.allSettled([
      store.execute('holey', bad, {}),
      store.append(good, [{ type: 'A', data: 1 }], { expectedVersion: 'no_stream' }),
      store.execute('counter', good, { by: 2 }),
      store.execute('broken-events', bad, {}),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'rejected']);
    expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidEventError);
    expect((outcomes[3] as PromiseRejectedResult).reason).toMatchObject({ code: 'INVALID_EVENT', message: expect.stringMatching(/a BigInt/) });
    expect(await versionsOf(good)).toEqual([0, 1]);
    await expect(versionsOf(bad)).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
  });

  it.each([
    ['readStream', () => store.readStream(streamId, null as never).next()],
    ['subscribe', () => store.subscribe(null as never, () => undefined)],
    ['execute', () => store.execute('counter', streamId, {}, null as never)],
    ['handle', () => store.handle(counter, streamId, {}, null as never)],
    ['load', () => store.load(counter, streamId, null as never)],
    ['grow', () => store.grow(3, null as never)],
  ])('refuses options: null on %s with INVALID_ARGUMENT naming options', async (_name, call) => {
    await expectRefused(call, 'INVALID_ARGUMENT', /^options: must be an object or undefined, got null/);
  });

  it.each([
    ["readStream with partitionKey ''", () => store.readStream(streamId, { partitionKey: '' }).next(), /^options\.partitionKey: must not be empty/],
    ["readStream with direction 'sideways'", () => store.readStream(streamId, { direction: 'sideways' as never }).next(), /^options\.direction: must be one of 'forwards', 'backwards'/],
    ["subscribe from [null]", () => store.subscribe({ from: [null as never] }, () => undefined), /^options\.from\[0\]: must be a position/],
    ["subscribe from offset '-5'", () => store.subscribe({ from: [{ partition: 0, offset: '-5' }] }, () => undefined), /^options\.from\[0\]\.offset: /],
    ["subscribe from offset 'abc'", () => store.subscribe({ from: [{ partition: 0, offset: 'abc' }] }, () => undefined), /^options\.from\[0\]\.offset: /],
    ['subscribe from partition 99 of a 2-partition store', () => store.subscribe({ from: [{ partition: 99, offset: '0' }] }, () => undefined), /^options\.from\[0\]\.partition: must be a partition of the store, an integer from 0 to 1/],
    ["handle with backoff { initialMs: 'x', maxMs: -1 }", () => store.handle(counter, streamId, {}, { backoff: { initialMs: 'x' as never, maxMs: -1 } }), /^options\.backoff\.initialMs: must be an integer/],
    ['grow(3, { concurrency: 0 })', () => store.grow(3, { concurrency: 0 }), /^options\.concurrency: must be an integer from 1 to 64, got the number 0/],
    ['execute with a command id of control characters', () => store.execute('counter', streamId, {}, { commandId: '\u0000' }), /^options\.commandId: must not contain control characters/],
    ['execute with a command NaN cannot carry', () => store.execute('counter', streamId, { by: Number.NaN }), /^command: is not JSON-serialisable: NaN/],
  ])('refuses %s with INVALID_ARGUMENT naming the option', async (_name, call, message) => {
    await expectRefused(call, 'INVALID_ARGUMENT', message);
    expect(store.partitions).toBe(2);
  });

  it('refuses a second decider under a registered name; the same decider again is a no-op', () => {
    store.register('counter', counter);
    expect(() => store.register('counter', { ...counter })).toThrow(/^name: a decider "counter" is registered already/);
  });

  it('answers a decider that throws null, undefined or 0 with CommandRejectedError, at the owner as from another process, and stores nothing', async () => {
    for (const thrown of [null, undefined, 0]) {
      const throwing: Decider<Counter, unknown, { type: 'Counted'; data: unknown }> = { ...counter, decide: () => { throw thrown; } };
      const deciderName = `throws-${String(thrown)}`;
      store.register(deciderName, throwing);
      const target = `thrown-${randomUUID()}`;
      const local = await expectRefused(() => store.execute(deciderName, target, {}), 'COMMAND_REJECTED', /the decider threw/);
      expect(local).toBeInstanceOf(CommandRejectedError);
      // From a process that owns nothing: the same refusal comes back in the reply (which is a record of its own).
      const remote = await settle(() => client.execute(deciderName, target, {}));
      expect(remote.ok).toBe(false);
      expect((remote as { error: unknown }).error).toBeInstanceOf(CommandRejectedError);
      await expect(versionsOf(target)).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
      await expectRefused(() => store.handle(throwing, target, {}), 'COMMAND_REJECTED', /the decider threw/);
    }
  });

  it('answers a decider that returns something other than an array with INVALID_ARGUMENT naming decider.decide, and stores nothing', async () => {
    const broken: Decider<Counter, unknown, { type: 'Counted'; data: unknown }> = { ...counter, decide: () => ({ type: 'Counted', data: 1 }) as never };
    store.register('broken', broken);
    const target = `broken-${randomUUID()}`;
    await expectRefused(() => store.execute('broken', target, {}), 'INVALID_ARGUMENT', /^decider\.decide: must return an array of events/);
    await expectRefused(() => store.handle(broken, target, {}), 'INVALID_ARGUMENT', /^decider\.decide: must return an array of events/);
    const remote = await settle(() => client.execute('broken', target, {}));
    expect((remote as { error: unknown }).error).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'decider.decide' });
  });

  it('refuses an event or a command too large for the appends topic from a process that is not the owner definitely, never as an unknown outcome', async () => {
    const target = `large-${randomUUID()}`;
    // Accepted by the owner itself (under maxEventBytes), too large once base64-encoded in a request.
    const data = 'x'.repeat(800_000);
    const error = await expectRefused(() => client.append(target, [{ type: 'A', data }], { expectedVersion: 'any' }), 'INVALID_ARGUMENT', /^events: the append is \d+ bytes as a request to the owner/);
    expect(error.retriable).toBe(false);
    // Under maxEventBytes as JSON, but every quote is escaped again inside the request.
    await expectRefused(() => client.execute('counter', target, { by: '"'.repeat(400_000) }), 'INVALID_ARGUMENT', /^command: is \d+ bytes as a request to the owner/);
    await expect(versionsOf(target)).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND' });
  });

  it('refuses bad connect options before any client starts, naming the option, and creates no topic', async () => {
    const fresh = `badconnect-${randomUUID().slice(0, 8)}`;
    const started = Date.now();
    await expect(EventStore.connect({ brokers: ['127.0.0.1:99999'], store: fresh })).rejects.toThrow(/^brokers\[0\]: "127.0.0.1:99999": port 99999 is not from 1 to 65535/);
    await expect(EventStore.connect({ brokers: brokers.join(',') as never, store: fresh })).rejects.toThrow(/^brokers: must be an array of "host:port" strings, got the string/);
    await expect(EventStore.connect({ brokers: 42 as never, store: fresh })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'brokers' });
    await expect(EventStore.connect({ brokers, store: fresh, log: 'verbose' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'log' });
    await expect(EventStore.connect({ brokers, store: fresh, schemas: {} as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'schemas' });
    await expect(EventStore.connect({ brokers, store: fresh, onUnknownEvent: 'bogus' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'onUnknownEvent' });
    await expect(EventStore.connect({ brokers, store: fresh, dataDir: 'package.json' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'dataDir' });
    await expect(EventStore.connect({ brokers, store: fresh, partitions: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'partitions' });
    await expect(EventStore.connect({ brokers, store: 'bad name with spaces' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'store' });
    expect(Date.now() - started).toBeLessThan(2_000);
    // A registry that cannot be reached is not an incompatible schema, and the store is not created for it.
    const schemas = new EventSchemas().define('A', 1, { type: 'object' });
    await expect(EventStore.connect({ brokers, store: fresh, schemas, schemaRegistry: { url: 'http://127.0.0.1:1' }, dataDir: dataDir() })).rejects.toMatchObject({
      code: 'SCHEMA_REGISTRY_UNAVAILABLE',
      retriable: true,
    });
    expect((await admin.listTopics()).filter((t) => t.startsWith(`${fresh}.`))).toEqual([]);
  });

  it('refuses a dataDir in use by another store with INVALID_ARGUMENT, and the store using it goes on working', async () => {
    const dir = dataDir();
    const first = await EventStore.connect({ brokers, store: name, writer: false, dataDir: dir });
    try {
      await expect(EventStore.connect({ brokers, store: name, writer: false, dataDir: dir })).rejects.toThrow(/^dataDir: .* is in use by another store/);
      expect(await versionsOf(streamId, first)).toEqual([0]);
    } finally {
      await first.close();
    }
  });

  it('leaves no client thread and no timer behind after a connect that fails once its admin client has started', async () => {
    const mismatched = `mismatch-${randomUUID().slice(0, 8)}`;
    const { events, appends } = topicNames(mismatched);
    await admin.createTopic({ name: events, partitions: 2, replicationFactor: 1 });
    await admin.createTopic({ name: appends, partitions: 1, replicationFactor: 1 });
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = threads();
    const timersBefore = timers();
    for (let i = 0; i < 3; i++) {
      await expect(EventStore.connect({ brokers, store: mismatched, dataDir: dataDir() })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'store' });
    }
    const deadline = Date.now() + 10_000;
    while (threads() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(threads()).toBeLessThanOrEqual(before);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
  });

  it('bounds subscription.stop(): a handler that never returns is abandoned after stopTimeoutMs with a TimeoutError', async () => {
    let entered = false;
    const subscription = await store.subscribe({ from: 'start', stopTimeoutMs: 500 }, () => {
      entered = true;
      return new Promise<void>(() => undefined);
    });
    const deadline = Date.now() + 15_000;
    while (!entered && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(entered).toBe(true);
    const started = Date.now();
    const [first, second] = await Promise.allSettled([subscription.stop(), subscription.stop()]);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((first as PromiseRejectedResult).reason).toBeInstanceOf(TimeoutError);
    expect((second as PromiseRejectedResult).reason).toBe((first as PromiseRejectedResult).reason);
  });

  describe('fuzzed through the store', () => {
    const hostile: fc.Arbitrary<unknown> = fc.oneof(
      fc.constantFrom<unknown>(undefined, null, Number.NaN, -1, 1.5, 2 ** 53, '', '\u0000', '\ud800', 'x'.repeat(300), 0n, true, Symbol('s'), () => 1, [], new Array(2), {}),
      fc.constant(null).map(() => {
        const cyclic: Record<string, unknown> = { a: 1 };
        cyclic.self = cyclic;
        return cyclic;
      }),
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.anything({ maxDepth: 2 }),
    );
    const eventArbitrary = fc.oneof(hostile, fc.record({ type: fc.oneof(fc.string({ maxLength: 10 }), hostile), data: fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostile) }, { requiredKeys: [] }));
    const calls = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), id: fc.oneof(fc.constant('fuzz-a'), hostile), events: fc.oneof(hostile, fc.array(eventArbitrary, { maxLength: 3 }), fc.sparseArray(eventArbitrary, { maxLength: 3 })), options: fc.oneof(hostile, fc.record({ expectedVersion: fc.oneof(fc.constant('any'), hostile), partitionKey: hostile }, { requiredKeys: [] })) }),
      fc.record({ kind: fc.constant('readStream' as const), id: fc.oneof(fc.constant(streamId), hostile), options: fc.oneof(hostile, fc.record({ fromVersion: hostile, direction: hostile, maxCount: hostile, partitionKey: hostile }, { requiredKeys: [] })) }),
      fc.record({ kind: fc.constant('subscribe' as const), options: fc.oneof(hostile, fc.record({ from: fc.oneof(hostile, fc.array(fc.record({ partition: hostile, offset: hostile }), { maxLength: 2 })), name: hostile }, { requiredKeys: [] })) }),
      fc.record({ kind: fc.constant('execute' as const), name: fc.oneof(fc.constant('counter'), hostile), id: fc.oneof(fc.constant('fuzz-c'), hostile), command: hostile, options: fc.oneof(hostile, fc.record({ commandId: hostile, partitionKey: hostile }, { requiredKeys: [] })) }),
      fc.record({ kind: fc.constant('handle' as const), id: fc.oneof(fc.constant('fuzz-h'), hostile), options: fc.oneof(hostile, fc.record({ maxRetries: hostile, backoff: hostile, partitionKey: hostile }, { requiredKeys: [] })) }),
      fc.record({ kind: fc.constant('load' as const), id: fc.oneof(fc.constant('fuzz-h'), hostile), decider: fc.oneof(fc.constant(counter), hostile), options: hostile }),
      // Never a valid larger count: the sample must not really grow the store.
      fc.record({ kind: fc.constant('grow' as const), partitions: hostile.filter((v) => !(typeof v === 'number' && Number.isInteger(v) && v > 2)), options: fc.oneof(hostile, fc.record({ concurrency: hostile, moveTimeoutMs: hostile, onProgress: hostile }, { requiredKeys: [] })) }),
      fc.record({ kind: fc.constant('register' as const), name: hostile, decider: hostile }),
    );

    it('answers every call with success or a typed error with a stable code, within a bound, writing nothing when it refuses; the store works afterwards', async () => {
      await fc.assert(
        fc.asyncProperty(calls, async (call) => {
          const before = await rawRecords();
          const outcome = await settle(async () => {
            switch (call.kind) {
              case 'append':
                return store.append(call.id as string, call.events as never, call.options as never);
              case 'readStream': {
                const out: RecordedEvent[] = [];
                for await (const e of store.readStream(call.id as string, call.options as never)) out.push(e);
                return out;
              }
              case 'subscribe':
                return (await store.subscribe(call.options as never, () => undefined)).stop();
              case 'execute':
                return store.execute(call.name as string, call.id as string, call.command, call.options as never);
              case 'handle':
                return store.handle(counter, call.id as string, { by: 1 }, call.options as never);
              case 'load':
                return store.load(call.decider as never, call.id as string, call.options as never);
              case 'grow':
                return store.grow(call.partitions as number, call.options as never);
              case 'register':
                return store.register(call.name as string, call.decider as never);
            }
          });
          if (!outcome.ok) {
            expect(outcome.error, String(outcome.error)).toBeInstanceOf(ScribeError);
            expect(inputCodes).toContain((outcome.error as ScribeError).code);
            if (['INVALID_ARGUMENT', 'INVALID_EVENT'].includes((outcome.error as ScribeError).code)) expect(await rawRecords()).toBe(before);
          }
        }),
        { numRuns: 60 },
      );
      expect(store.partitions).toBe(2);
      const after = `after-fuzz-${randomUUID()}`;
      await store.append(after, [{ type: 'A', data: 1 }], { expectedVersion: 'no_stream' });
      await client.append(after, [{ type: 'A', data: 2 }], { expectedVersion: 0 });
      expect(await versionsOf(after)).toEqual([0, 1]);
    });
  });

  it('refuses appends, reads and subscriptions after close() with StoreClosedError', async () => {
    const closing = await EventStore.connect({ brokers, store: `closed-${randomUUID().slice(0, 8)}`, partitions: 1, dataDir: dataDir() });
    await closing.close();
    await expect(closing.append('s', [{ type: 'A', data: {} }], { expectedVersion: 'any' })).rejects.toBeInstanceOf(StoreClosedError);
    await expect(closing.readStream('s').next()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(closing.subscribe({}, () => undefined)).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
