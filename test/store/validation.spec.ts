// Bad input, without a broker: every check a public entry point makes before anything reaches
// Kafka, fuzzed with what a careless or hostile caller passes. The rule for every input:
// success, or a ScribeError with a stable code whose message names the argument; never a
// TypeError, a RangeError or a raw client object.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterNameFlag, clusterSizeFlag, integerFlag, nodeActionArgument, storeFlag, brokersFlag } from '../../src/cli/arguments.js';
import { decideOrRefuse } from '../../src/aggregates/command-runner.js';
import { InvalidArgumentError, ScribeError } from '../../src/errors.js';
import { validateBrokers } from '../../src/kafka/config.js';
import { EventSchemas } from '../../src/schemas/event-schemas.js';
import { validateConnectOptions } from '../../src/store/connect-options.js';
import { validateSubscriptionStart } from '../../src/store/subscription.js';
import { encodeEvents, validateCommand, validateDecider, validateOptions, validateStreamId } from '../../src/store/validation.js';
import { CommandRejectedError, InvalidEventError } from '../../src/streams/errors.js';
import { validateExpectedVersion } from '../../src/streams/expected-version.js';

const runs = { numRuns: 300 };
const maxEventBytes = 1_000_000 - 4_096;

/** A throwing proxy: every trap throws, as a hostile object would. */
function throwingProxy<T extends object>(target: T): T {
  const boom = () => {
    throw new Error('trap');
  };
  // Symbol keys answer: fast-check itself asks generated values for its clone method.
  return new Proxy(target, { get: (_t, key) => (typeof key === 'symbol' ? undefined : boom()), ownKeys: boom, getOwnPropertyDescriptor: boom, has: (_t, key) => (typeof key === 'symbol' ? false : boom()) });
}

function cyclic(): Record<string, unknown> {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

/** Values a careless or hostile caller passes where anything else was expected. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    undefined,
    null,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    0,
    -0,
    -1,
    1.5,
    2 ** 53,
    Number.MAX_VALUE,
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\u0007\u001b[2J',
    '\u202e',
    '\ud800',
    'é'.normalize('NFD'),
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    'x'.repeat(300),
    'x'.repeat(2_000_000),
    0n,
    10n ** 30n,
    true,
    false,
    Symbol('s'),
    () => 1,
    [],
    [undefined],
    new Array(3),
    {},
    new Date(Number.NaN),
    new Map([[1, 2]]),
    Buffer.from('x'),
  ),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.anything(),
  fc.constant(null).map(() => cyclic()),
  fc.constant(null).map(() => throwingProxy({})),
  fc.constant(null).map(() => throwingProxy([] as unknown[])),
);

/** Runs `call`: success, or a typed error of one of `codes` whose message starts with one of `arguments`. */
function refusedWellOrAccepted(call: () => unknown, codes: readonly string[], argumentNames: RegExp): { accepted: boolean; value?: unknown } {
  try {
    return { accepted: true, value: call() };
  } catch (error) {
    if (!(error instanceof ScribeError)) throw new Error(`not a typed error: ${String(error)}`, { cause: error });
    expect(codes).toContain(error.code);
    expect(error.message).toMatch(argumentNames);
    return { accepted: false };
  }
}

describe('bad input, checked without a broker', () => {
  describe('append: events', () => {
    const eventArbitrary = fc.oneof(
      hostile,
      fc.record({ type: fc.oneof(fc.string(), hostile), data: fc.oneof(fc.jsonValue(), hostile) }, { requiredKeys: [] }),
      fc.record({ type: fc.string({ minLength: 1 }), data: fc.jsonValue(), id: fc.oneof(fc.uuid(), hostile), metadata: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), hostile) }, { requiredKeys: ['type', 'data'] }),
    );
    const eventsArbitrary = fc.oneof(hostile, fc.array(eventArbitrary, { maxLength: 5 }), fc.sparseArray(eventArbitrary, { maxLength: 5 }));

    it('answers any events argument with encoded events or INVALID_ARGUMENT/INVALID_EVENT naming the event', () => {
      fc.assert(
        fc.property(eventsArbitrary, (events) => {
          const outcome = refusedWellOrAccepted(() => encodeEvents(events, maxEventBytes), ['INVALID_ARGUMENT', 'INVALID_EVENT'], /^(events: |event \d+: )/);
          if (outcome.accepted) {
            // Accepted: one encoded event per index, none missing (versions without gaps).
            const encoded = outcome.value as unknown[];
            expect(Array.isArray(events)).toBe(true);
            expect(encoded).toHaveLength((events as unknown[]).length);
            for (let i = 0; i < encoded.length; i++) expect(Object.hasOwn(encoded, i)).toBe(true);
          }
        }),
        runs,
      );
    });

    it('refuses a sparse array at its first hole, so a stream can never get a version gap', () => {
      const event = { type: 'A', data: {} };
      // eslint-disable-next-line no-sparse-arrays
      expect(() => encodeEvents([, event], maxEventBytes)).toThrow(/^event 0: is missing: the events array has a hole/);
      expect(() => encodeEvents(new Array(2), maxEventBytes)).toThrow(InvalidEventError);
      fc.assert(
        fc.property(fc.sparseArray(fc.constant(event), { maxLength: 8 }).filter((a) => a.length > 0), (events) => {
          const holes = Array.from({ length: events.length }, (_, i) => i).filter((i) => !Object.hasOwn(events, i));
          if (holes.length === 0) expect(encodeEvents(events, maxEventBytes)).toHaveLength(events.length);
          else expect(() => encodeEvents(events, maxEventBytes)).toThrow(new RegExp(`^event ${holes[0]}: is missing`));
        }),
        runs,
      );
    });

    it('reads each field of an event once: a getter that answers differently cannot slip past the checks', () => {
      let reads = 0;
      const shifty = {
        data: {},
        get type() {
          reads++;
          return reads === 1 ? 'A' : undefined;
        },
      };
      const [encoded] = encodeEvents([shifty], maxEventBytes);
      expect(encoded!.type).toBe('A');
      expect(reads).toBe(1);
    });

    it('refuses an event whose fields cannot be read with INVALID_EVENT, and events that cannot be read with INVALID_ARGUMENT', () => {
      expect(() => encodeEvents([throwingProxy({ type: 'A', data: 1 })], maxEventBytes)).toThrow(/^event 0: could not be read/);
      expect(() => encodeEvents(throwingProxy([{ type: 'A', data: 1 }]), maxEventBytes)).toThrow(/^events: could not be read/);
    });

    it('refuses data that JSON would change silently (NaN, Infinity, BigInt, functions, symbols) and cyclic data', () => {
      for (const data of [Number.NaN, { n: Number.POSITIVE_INFINITY }, { n: 1n }, { f: () => 1 }, [Symbol('s')], cyclic()]) {
        expect(() => encodeEvents([{ type: 'A', data }], maxEventBytes)).toThrow(/^event 0: data is not JSON-serialisable/);
      }
    });

    it('refuses an event type with control characters or lone surrogates', () => {
      for (const type of ['A\u0000', 'A\nB', '\ud800']) expect(() => encodeEvents([{ type, data: 1 }], maxEventBytes)).toThrow(/^event 0: type must be well-formed/);
    });

    it('answers schema validation of any data with INVALID_EVENT, never a validator crash', () => {
      const schemas = new EventSchemas().define('A', 1, { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] });
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), hostile), (data) => {
          refusedWellOrAccepted(() => encodeEvents([{ type: 'A', data }], maxEventBytes, { schemas }), ['INVALID_EVENT', 'INVALID_ARGUMENT'], /^(event 0: |events: )/);
        }),
        runs,
      );
    });
  });

  it('stream ids, partition keys and names: a non-empty well-formed string of at most 256 bytes', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string({ maxLength: 300 })), (id) => {
        const outcome = refusedWellOrAccepted(() => validateStreamId(id), ['INVALID_ARGUMENT'], /^streamId: /);
        if (outcome.accepted) expect(typeof id === 'string' && id.length > 0 && id.isWellFormed() && Buffer.byteLength(id) <= 256).toBe(true);
      }),
      runs,
    );
  });

  it('expectedVersion: one of the states or an integer >= -1; anything else (0n, NaN, "latest") is INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(hostile, (expected) => {
        refusedWellOrAccepted(() => validateExpectedVersion(expected), ['INVALID_ARGUMENT'], /^expectedVersion: /);
      }),
      runs,
    );
    expect(() => validateExpectedVersion(0n)).toThrow(/^expectedVersion: 0n \(a BigInt; give a number\)/);
  });

  it('options of any call: undefined or an object, read once; null, a string, an array or a throwing proxy is INVALID_ARGUMENT naming options', () => {
    fc.assert(
      fc.property(hostile, (options) => {
        const outcome = refusedWellOrAccepted(() => validateOptions(options), ['INVALID_ARGUMENT'], /^options: /);
        if (outcome.accepted) expect(options === undefined || (typeof options === 'object' && options !== null && !Array.isArray(options))).toBe(true);
      }),
      runs,
    );
    expect(() => validateOptions(null)).toThrow(/^options: must be an object or undefined, got null/);
  });

  describe('connect options', () => {
    const base = { store: 'ok', brokers: ['127.0.0.1:9092'], dataDir: '.scribe/test/validation-spec' };
    const keys = ['store', 'brokers', 'partitions', 'replicationFactor', 'writer', 'dataDir', 'appendTimeoutMs', 'sessionTimeoutMs', 'transactionTimeoutMs', 'maxConcurrentTransactions', 'maxEventBytes', 'schemas', 'onUnknownEvent', 'schemaRegistry', 'clientId', 'log'] as const;

    it('answers any value of any option with the options or INVALID_ARGUMENT naming that option', () => {
      fc.assert(
        fc.property(fc.constantFrom(...keys), hostile, (key, value) => {
          const argument = new RegExp(`^(${key}|${key}\\[\\d+\\]|${key}\\.\\w+|KAFKA_BROKERS(\\[\\d+\\])?): `);
          refusedWellOrAccepted(() => validateConnectOptions({ ...base, [key]: value }), ['INVALID_ARGUMENT'], argument);
        }),
        runs,
      );
      fc.assert(
        fc.property(hostile, (options) => {
          refusedWellOrAccepted(() => validateConnectOptions(options), ['INVALID_ARGUMENT'], /^(options|store|brokers|KAFKA_BROKERS)(\[\d+\])?: /);
        }),
        runs,
      );
    });

    it.each([
      ['brokers given as one string', { brokers: '127.0.0.1:9092' }, /^brokers: must be an array of "host:port" strings, got the string "127.0.0.1:9092"/],
      ['a port out of range', { brokers: ['127.0.0.1:99999'] }, /^brokers\[0\]: "127.0.0.1:99999": port 99999 is not from 1 to 65535/],
      ['brokers: 42', { brokers: 42 }, /^brokers: must be an array/],
      ["log: 'verbose'", { log: 'verbose' }, /^log: must be a function/],
      ['schemas: {}', { schemas: {} }, /^schemas: must be an EventSchemas/],
      ['schemas that define no type', { schemas: new EventSchemas() }, /^schemas: defines no event type/],
      ["onUnknownEvent: 'bogus'", { onUnknownEvent: 'bogus' }, /^onUnknownEvent: must be one of 'fail', 'skip', 'raw'/],
      ['a schema registry without schemas', { schemaRegistry: { url: 'http://127.0.0.1:1' } }, /^schemaRegistry: needs `schemas`/],
      ['a dataDir that is a file', { dataDir: 'package.json' }, /^dataDir: .* exists and is not a directory/],
      ['a dataDir with a NUL', { dataDir: 'a\u0000b' }, /^dataDir: must not contain a NUL/],
      ['a dataDir whose name is longer than the file system allows (found by the fuzzer)', { dataDir: 'x'.repeat(400) }, /^dataDir: .* cannot be used: ENAMETOOLONG/],
      ['a dataDir below a file', { dataDir: 'package.json/index' }, /^dataDir: .* cannot be used: ENOTDIR/],
      ['an appendTimeoutMs no timer can wait', { appendTimeoutMs: 2 ** 31 }, /^appendTimeoutMs: must be an integer from 1 to 2147483647/],
      ['writer: "yes"', { writer: 'yes' }, /^writer: must be true or false/],
    ])('refuses %s, naming the option', (_name, options, message) => {
      expect(() => validateConnectOptions({ ...base, ...options })).toThrow(message);
    });

    it('accepts brokers written as host names, IPv4 and bracketed IPv6 addresses', () => {
      validateBrokers(['localhost:9092', '10.0.0.1:1', '[::1]:65535', 'kafka-1.internal:9093']);
    });
  });

  describe('subscribe: from', () => {
    it('answers any start with a start or INVALID_ARGUMENT naming options.from or the position at fault', () => {
      const position = fc.record({ partition: fc.oneof(fc.integer({ min: -2, max: 14 }), hostile), offset: fc.oneof(fc.bigInt({ min: -5n, max: 2n ** 64n }).map(String), fc.string(), hostile) }, { requiredKeys: [] });
      fc.assert(
        fc.property(fc.oneof(hostile, fc.array(fc.oneof(position, hostile), { maxLength: 14 })), (from) => {
          const outcome = refusedWellOrAccepted(() => validateSubscriptionStart(from, 12), ['INVALID_ARGUMENT'], /^options\.from(\[\d+\](\.partition|\.offset)?)?: /);
          if (outcome.accepted && Array.isArray(outcome.value)) {
            for (const p of outcome.value as { partition: number; offset: string }[]) {
              expect(p.partition).toBeGreaterThanOrEqual(0);
              expect(p.partition).toBeLessThan(12);
              expect(BigInt(p.offset)).toBeGreaterThanOrEqual(0n);
            }
          }
        }),
        runs,
      );
    });

    it.each([
      ['[null]', [null], /^options\.from\[0\]: must be a position/],
      ["offset '-5'", [{ partition: 0, offset: '-5' }], /^options\.from\[0\]\.offset: must be an offset/],
      ["offset 'abc'", [{ partition: 0, offset: 'abc' }], /^options\.from\[0\]\.offset: /],
      ['partition 99 of a 12-partition store', [{ partition: 99, offset: '1' }], /^options\.from\[0\]\.partition: must be a partition of the store, an integer from 0 to 11, got the number 99/],
      ['the same partition twice', [{ partition: 1, offset: '1' }, { partition: 1, offset: '2' }], /^options\.from\[1\]\.partition: partition 1 appears twice/],
    ])('refuses from %s', (_name, from, message) => {
      expect(() => validateSubscriptionStart(from, 12)).toThrow(message);
    });
  });

  it('commands: JSON that survives the trip to the owner, at most the store’s event size', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), hostile), (command) => {
        refusedWellOrAccepted(() => validateCommand(command, maxEventBytes), ['INVALID_ARGUMENT'], /^command: /);
      }),
      runs,
    );
    expect(() => validateCommand({ n: Number.NaN }, maxEventBytes)).toThrow(/^command: is not JSON-serialisable: NaN/);
    expect(() => validateCommand('x'.repeat(maxEventBytes), maxEventBytes)).toThrow(/^command: is \d+ bytes as JSON; at most/);
  });

  it('deciders: any decider-shaped value is accepted or refused naming decider or its field', () => {
    const fn = fc.constant(() => undefined);
    fc.assert(
      fc.property(
        fc.oneof(hostile, fc.record({ initialState: fc.oneof(fn, hostile), evolve: fc.oneof(fn, hostile), decide: fc.oneof(fn, hostile), snapshotVersion: hostile, snapshot: fc.oneof(hostile, fc.record({ every: hostile })), codec: hostile }, { requiredKeys: [] })),
        (decider) => {
          refusedWellOrAccepted(() => validateDecider(decider), ['INVALID_ARGUMENT'], /^decider(\.\w+)*: /);
        },
      ),
      runs,
    );
  });

  it('a decider that throws something other than an Error (null, undefined, 0, a string) refuses with CommandRejectedError; one that returns a non-array is INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(fc.oneof(hostile.filter((v) => !(v instanceof Error))), (thrown) => {
        const decider = { initialState: () => 0, evolve: (s: number) => s, decide: () => { throw thrown; } };
        expect(() => decideOrRefuse(decider, {}, 0, 's')).toThrow(CommandRejectedError);
      }),
      { numRuns: 100 },
    );
    const refusal = new RangeError('domain');
    expect(() => decideOrRefuse({ initialState: () => 0, evolve: (s: number) => s, decide: () => { throw refusal; } }, {}, 0, 's')).toThrow(refusal);
    for (const returned of [undefined, null, 0, 'events', { type: 'A' }]) {
      expect(() => decideOrRefuse({ initialState: () => 0, evolve: (s: number) => s, decide: () => returned as never }, {}, 0, 's')).toThrow(/^decider\.decide: must return an array of events/);
    }
  });

  it('event schemas: define answers any type, version, schema and options with itself or INVALID_ARGUMENT naming the argument', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant('A'), hostile), fc.oneof(fc.constant(1), hostile), fc.oneof(fc.constant({ type: 'object' }), hostile), fc.oneof(fc.constant(undefined), hostile), (type, version, schema, options) => {
        refusedWellOrAccepted(() => new EventSchemas().define(type as string, version as number, schema as never, options as never), ['INVALID_ARGUMENT'], /^(type|version|schema|options|upcast): /);
      }),
      runs,
    );
  });

  describe('the command line', () => {
    const flagValue = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '0', '-1', '1e3', '0x10', '99999999999', ' 3', '3 ', 'NaN', '\u0000', 'x'.repeat(10_000)));

    it('answers every flag value with its value or INVALID_ARGUMENT naming the flag', () => {
      fc.assert(
        fc.property(flagValue, (value) => {
          refusedWellOrAccepted(() => integerFlag(value, '--to', 1, 10_000), ['INVALID_ARGUMENT'], /^--to: /);
          refusedWellOrAccepted(() => clusterSizeFlag(value), ['INVALID_ARGUMENT'], /^--nodes: /);
          refusedWellOrAccepted(() => clusterNameFlag(value), ['INVALID_ARGUMENT'], /^--name: /);
          refusedWellOrAccepted(() => nodeActionArgument(value), ['INVALID_ARGUMENT'], /^<action>: /);
          refusedWellOrAccepted(() => storeFlag(value), ['INVALID_ARGUMENT'], /^--store: /);
          refusedWellOrAccepted(() => brokersFlag(value), ['INVALID_ARGUMENT'], /^--brokers(\[\d+\])?: /);
        }),
        runs,
      );
    });

    it('reads --to as decimal digits only', () => {
      expect(integerFlag('12', '--to', 1, 10_000)).toBe(12);
      for (const value of ['1e1', '0x10', ' 12', '12.0', '0']) expect(() => integerFlag(value, '--to', 1, 10_000)).toThrow(InvalidArgumentError);
    });
  });
});
