// Model-based test of the append rules: random batches (random streams and expected versions,
// retries of earlier appends whole, in part or in another stream, commands that decide
// against the stream as they find it, repeated commands) run through decideBatch over an
// in-memory partition, and through a reference model written here as plainly as possible.
// Both must answer every append alike and leave the same log. CI fixes the seed
// (test/fast-check-seed.ts); FC_SEED=<n> replays one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandEventId, type AppendIntent } from '../../src/appends/append-batch.js';
import { ScribeError } from '../../src/errors.js';
import { WrongExpectedVersionError } from '../../src/streams/errors.js';
import type { ExpectedVersion } from '../../src/streams/expected-version.js';
import { event, MemoryPartition, type Settled } from './memory-partition.js';

const streams = ['a', 'b', 'c'] as const;

/** What the test asks for; ids and earlier appends are resolved when the batch runs. */
type Step =
  | { readonly kind: 'append'; readonly stream: string; readonly expected: ExpectedVersion; readonly count: number }
  | { readonly kind: 'retry'; readonly of: number; readonly also?: number; readonly stream?: string; readonly extra: boolean }
  | { readonly kind: 'command'; readonly stream: string; readonly id: number; readonly rule: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      stream: fc.constantFrom(...streams),
      expected: fc.oneof(fc.constantFrom<ExpectedVersion>('any', 'no_stream', 'stream_exists'), fc.integer({ min: -1, max: 4 })),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    // A retry of an earlier append: whole, with one more (new) id, in another stream, or
    // together with the ids of another earlier append (stored, or written by this batch).
    arbitrary: fc.record(
      { kind: fc.constant('retry' as const), of: fc.nat(), also: fc.nat(), stream: fc.constantFrom(...streams), extra: fc.boolean() },
      { requiredKeys: ['kind', 'of', 'extra'] },
    ),
  },
  {
    weight: 2,
    // Command ids repeat (a retried command); a command's id belongs to one stream.
    arbitrary: fc.record({ kind: fc.constant('command' as const), stream: fc.constantFrom(...streams), id: fc.integer({ min: 0, max: 3 }), rule: fc.integer({ min: 0, max: 3 }) }),
  },
);

/** A command's decision as a function of the version it meets: how many events, or a refusal. */
function decision(rule: number, current: number): number | 'refuse' {
  if (rule === 3 && current % 2 === 1) return 'refuse';
  return (current + 1 + rule) % 3;
}

class Refused extends Error {}

/** An answer as both sides give it: a position, or the refusal's kind (and actual version). */
type Answer = { ok: true; version: number; offset: string } | { ok: false; code: string; actual?: number };

function answer(settled: Settled): Answer {
  if (settled.ok) return { ok: true, version: settled.result.nextExpectedVersion, offset: settled.result.position.offset };
  const { error } = settled;
  if (error instanceof WrongExpectedVersionError) return { ok: false, code: error.code, actual: error.actual };
  if (error instanceof ScribeError) return { ok: false, code: error.code };
  if (error instanceof Refused) return { ok: false, code: 'REFUSED' };
  throw error;
}

/** One append or command of a batch, with ids resolved: what both sides are given. */
type Request = { readonly kind: 'append'; readonly stream: string; readonly expected: ExpectedVersion; readonly ids: string[] } | { readonly kind: 'command'; readonly stream: string; readonly commandId: string; readonly rule: number };

/**
 * The reference: the log as a list, every question answered by scanning it, the rules as the
 * README states them.
 */
class Reference {
  readonly log: { id: string; stream: string; version: number; offset: number }[] = [];
  private nextOffset = 100;

  run(batch: readonly Request[]): Answer[] {
    type Pending = { id: string; stream: string; version: number; by: number };
    const pending: Pending[] = [];
    const outcome: (Answer | { follow: number } | { wrote: number })[] = [];
    const versionsOf = (stream: string) => [...this.log.filter((e) => e.stream === stream), ...pending.filter((e) => e.stream === stream)];
    const current = (stream: string) => versionsOf(stream).length - 1;
    const committedAt = (stream: string, version: number) => this.log.find((e) => e.stream === stream && e.version === version);
    const write = (i: number, stream: string, ids: string[]) => {
      const from = current(stream) + 1;
      ids.forEach((id, k) => pending.push({ id, stream, version: from + k, by: i }));
      outcome.push({ wrote: i });
    };

    batch.forEach((request, i) => {
      if (request.kind === 'command') {
        const first = commandEventId(request.commandId, 0);
        const firstPending = pending.find((e) => e.id === first);
        if (firstPending) return void outcome.push({ follow: firstPending.by });
        const applied = this.log.filter((e) => e.id.startsWith(`${request.commandId}/`));
        if (applied.length > 0) {
          const last = applied[applied.length - 1]!;
          return void outcome.push({ ok: true, version: last.version, offset: String(last.offset) });
        }
        const at = current(request.stream);
        const decided = decision(request.rule, at);
        if (decided === 'refuse') return void outcome.push({ ok: false, code: 'REFUSED' });
        if (decided === 0) {
          const writtenNow = pending.find((e) => e.stream === request.stream && e.version === at);
          if (writtenNow) return void outcome.push({ follow: writtenNow.by });
          return void outcome.push({ ok: true, version: at, offset: String(committedAt(request.stream, at)?.offset ?? -1) });
        }
        return write(i, request.stream, Array.from({ length: decided }, (_, k) => commandEventId(request.commandId, k)));
      }

      const stored = request.ids.map((id) => this.log.find((e) => e.id === id) ?? pending.find((e) => e.id === id));
      const known = stored.filter((e) => e !== undefined);
      if (known.length > 0) {
        if (known.length < request.ids.length) return void outcome.push({ ok: false, code: 'EVENT_ID_CONFLICT' });
        if (known.some((e) => e.stream !== request.stream)) return void outcome.push({ ok: false, code: 'EVENT_ID_CONFLICT' });
        const inBatch = known.filter((e) => 'by' in e);
        if (inBatch.length > 0 && inBatch.length < known.length) return void outcome.push({ ok: false, code: 'EVENT_ID_CONFLICT' });
        const last = known[known.length - 1]!;
        if ('by' in last) return void outcome.push({ follow: last.by });
        return void outcome.push({ ok: true, version: last.version, offset: String(last.offset) });
      }
      const at = current(request.stream);
      const expected = request.expected;
      const holds = expected === 'any' || (expected === 'no_stream' && at === -1) || (expected === 'stream_exists' && at >= 0) || expected === at;
      if (!holds) return void outcome.push({ ok: false, code: 'WRONG_EXPECTED_VERSION', actual: at });
      write(i, request.stream, request.ids);
    });

    // Commit: offsets in write order; each write answers with its last event.
    const written = new Map<number, Answer>();
    for (const e of pending) {
      const offset = this.nextOffset++;
      this.log.push({ id: e.id, stream: e.stream, version: e.version, offset });
      written.set(e.by, { ok: true, version: e.version, offset: String(offset) });
    }
    this.nextOffset++;
    return outcome.map((o) => ('wrote' in o ? written.get(o.wrote)! : 'follow' in o ? written.get(o.follow)! : o));
  }
}

describe('the append rules against a reference model', () => {
  it('answer every append and command alike and leave the same log', () => {
    fc.assert(
      fc.property(fc.array(fc.array(step, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), (batches) => {
        const model = new MemoryPartition();
        const reference = new Reference();
        /** Plain appends so far, for retries: every append's ids are its own. */
        const earlier: { stream: string; expected: ExpectedVersion; ids: string[] }[] = [];
        let nextId = 0;
        for (const steps of batches) {
          const requests: Request[] = steps.map((s) => {
            if (s.kind === 'command') return { kind: 'command', stream: s.stream, commandId: `cmd-${s.stream}-${s.id}`, rule: s.rule };
            if (s.kind === 'retry' && earlier.length > 0) {
              const of = earlier[s.of % earlier.length]!;
              const ids = s.also === undefined ? of.ids : [...new Set([...of.ids, ...earlier[s.also % earlier.length]!.ids])];
              return { kind: 'append', stream: s.stream ?? of.stream, expected: of.expected, ids: s.extra ? [...ids, `e${nextId++}`] : ids };
            }
            const fresh = s.kind === 'append' ? s : { stream: s.stream ?? 'a', expected: 'any' as const, count: 1 };
            const request = { kind: 'append' as const, stream: fresh.stream, expected: fresh.expected, ids: Array.from({ length: fresh.count }, () => `e${nextId++}`) };
            earlier.push(request);
            return request;
          });
          const intents: AppendIntent[] = requests.map((r) =>
            r.kind === 'append'
              ? { streamId: r.stream, expectedVersion: r.expected, events: r.ids.map(event) }
              : {
                  streamId: r.stream,
                  expectedVersion: 'any',
                  events: {
                    commandId: r.commandId,
                    decide: (current, batch) => {
                      // What a decider folds: the event at `current`, written earlier in this batch or stored.
                      if (current >= 0 && batch.event(r.stream, current)?.version !== current) throw new Error(`no event ${r.stream}@${current} in view`);
                      const decided = decision(r.rule, current);
                      if (decided === 'refuse') throw new Refused();
                      return { events: Array.from({ length: decided }, (_, k) => event(commandEventId(r.commandId, k))) };
                    },
                  },
                },
          );
          const got = model.run(intents).map(answer);
          const expected = reference.run(requests);
          expect(got).toEqual(expected);
        }
        expect(model.log.map((e) => [e.id, e.streamId, e.version, e.offset])).toEqual(reference.log.map((e) => [e.id, e.stream, e.version, e.offset]));
        // I1 on the model's log: each stream's versions are 0..n-1, in offset order.
        for (const stream of streams) expect(model.log.filter((e) => e.streamId === stream).map((e) => e.version)).toEqual([...model.log.filter((e) => e.streamId === stream).keys()]);
      }),
      { numRuns: 300 },
    );
  });
});
