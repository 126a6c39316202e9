// Specifications of the chaos checker: each anomaly, planted in a small history and log, is
// found and named; a clean history gives none. No broker.
import { describe, expect, it } from 'vitest';
import { availability } from '../../chaos/availability.js';
import { checkHistory, type StoredEvent } from '../../chaos/checker.js';
import { historyFrom, type Line } from '../../chaos/history.js';

let clock = 1_000;
const t = () => (clock += 10);

/** A process's lines: start, then ops given as [op, stream, expected, ids, outcome, version?]. */
function proc(p: string, ops: [string, string, number | string | undefined, string[], string, number?][], role: 'writer' | 'client' = 'client'): Line[] {
  const lines: Line[] = [{ k: 'start', p, role, t: t(), pid: 1 }];
  ops.forEach(([op, stream, expected, ids, outcome, version], n) => {
    lines.push({ k: 'invoke', p, n, op: op as 'append', stream, ids, t: t(), ...(expected !== undefined ? { expected } : {}) });
    if (outcome !== 'died') {
      lines.push({
        k: 'complete',
        p,
        n,
        outcome: outcome as 'ok',
        t: t(),
        ...(outcome === 'conflict' ? { actual: version } : version !== undefined ? { version } : {}),
        ...(outcome === 'fail' ? { code: 'OWNERSHIP_CHANGED' } : outcome === 'unknown' ? { code: 'APPEND_OUTCOME_UNKNOWN' } : {}),
      });
    }
  });
  return lines;
}

const ev = (stream: string, version: number, id: string, offset: number, partition = 0): StoredEvent => ({ stream, version, id, partition, offset });

// A clean run: a1 appends 0 and 1, a2 conflicts, reads see what was written, a subscription is in order.
const cleanLines = (): Line[] => [
  ...proc('a1', [
    ['append', 's', 'no_stream', ['e0'], 'ok', 0],
    ['append', 's', 0, ['e1'], 'ok', 1],
    ['read', 's', undefined, [], 'ok', 1],
  ]),
  ...proc('a2', [['append', 's', 0, ['x1'], 'conflict', 1]]),
  { k: 'sub', p: 'a1', i: 1, stream: 's', v: 0, id: 'e0', t: t() },
  { k: 'sub', p: 'a1', i: 1, stream: 's', v: 1, id: 'e1', t: t() },
];
const cleanLog = () => [ev('s', 0, 'e0', 0), ev('s', 1, 'e1', 2)];

const names = (lines: Line[], log: StoredEvent[]) => [...new Set(checkHistory(historyFrom(lines), log).map((a) => a.name))].sort();

describe('the chaos checker', () => {
  it('finds nothing in a clean history', () => {
    expect(checkHistory(historyFrom(cleanLines()), cleanLog())).toEqual([]);
  });

  it('an unknown outcome that was not applied, or applied once, is no anomaly', () => {
    const lines = [...cleanLines(), ...proc('a3', [['append', 's', 1, ['u2'], 'unknown'], ['append', 's', 1, ['u2'], 'ok', 2], ['append', 't', 'no_stream', ['n0'], 'died']])];
    expect(names(lines, [...cleanLog(), ev('s', 2, 'u2', 4)])).toEqual([]);
  });

  it('lost-write: an acknowledged append is not in the log', () => {
    const lines = proc('a1', [['append', 's', 'no_stream', ['e0'], 'ok', 0], ['append', 's', 0, ['e1'], 'ok', 1]]);
    expect(names(lines, [ev('s', 0, 'e0', 0)])).toEqual(['lost-write']);
  });

  it('duplicate: one event id stored twice', () => {
    expect(names(cleanLines(), [...cleanLog(), ev('s', 2, 'e1', 3)])).toEqual(['duplicate']);
  });

  it('unknown-applied-twice: an append with an unknown outcome, retried with the same ids, stored twice', () => {
    const lines = [...cleanLines(), ...proc('a3', [['append', 's', 1, ['u2'], 'unknown'], ['append', 's', 1, ['u2'], 'ok', 2]])];
    expect(names(lines, [...cleanLog(), ev('s', 2, 'u2', 4), ev('s', 3, 'u2', 5)])).toEqual(['unknown-applied-twice']);
  });

  it('aborted-read: a conflicting append is visible', () => {
    expect(names(cleanLines(), [...cleanLog(), ev('s', 2, 'x1', 3)])).toEqual(['aborted-read']);
  });

  it('aborted-read: a definitely failed append is visible', () => {
    const lines = [...cleanLines(), ...proc('a3', [['append', 'f', 'no_stream', ['f0'], 'fail']])];
    expect(names(lines, [...cleanLog(), ev('f', 0, 'f0', 7, 1)])).toEqual(['aborted-read']);
  });

  it('version-duplicate: a stream holds a version twice', () => {
    const lines = [...cleanLines(), ...proc('a3', [['append', 's', 'any', ['d1'], 'unknown']])];
    expect(names(lines, [...cleanLog(), ev('s', 1, 'd1', 3)])).toEqual(['version-duplicate']);
  });

  it('version-gap: a stream skips a version', () => {
    const lines = [...cleanLines(), ...proc('a3', [['append', 's', 'any', ['g3'], 'unknown']])];
    expect(names(lines, [...cleanLog(), ev('s', 3, 'g3', 3)])).toEqual(['version-gap']);
  });

  it('version-order: versions out of offset order', () => {
    const lines = [...proc('a1', [['append', 's', 'any', ['e0'], 'ok', 0], ['append', 's', 'any', ['e1'], 'ok', 1]])];
    expect(names(lines, [ev('s', 1, 'e1', 1), ev('s', 0, 'e0', 2)])).toEqual(['version-order']);
  });

  it('concurrent-accept: two appends accepted with the same expected version', () => {
    const lines = [...cleanLines(), ...proc('a3', [['append', 's', 0, ['c1'], 'ok', 1]])];
    // The log is made consistent otherwise (c1 stored as version 2) so only I2 is broken, and ok-wrong-version too.
    const found = checkHistory(historyFrom(lines), [...cleanLog(), ev('s', 2, 'c1', 3)]).map((a) => a.name);
    expect(found).toContain('concurrent-accept');
    expect(names(lines, [...cleanLog(), ev('s', 2, 'c1', 3)])).toEqual(['concurrent-accept', 'ok-wrong-version']);
  });

  it('ok-wrong-version: an acknowledged append was told another version than the stored one', () => {
    const lines = proc('a1', [['append', 's', 'any', ['e0'], 'ok', 0], ['append', 's', 'any', ['e1'], 'ok', 5]]);
    expect(names(lines, cleanLog())).toEqual(['ok-wrong-version']);
  });

  it('nonmonotonic-read: a read saw less than the same process had written before it began', () => {
    const lines = proc('a1', [['append', 's', 'no_stream', ['e0'], 'ok', 0], ['append', 's', 0, ['e1'], 'ok', 1], ['read', 's', undefined, [], 'ok', 0]]);
    expect(names(lines, cleanLog())).toEqual(['nonmonotonic-read']);
  });

  it('nonmonotonic-read: a read went backwards from an earlier read of the same process', () => {
    const lines = [...cleanLines(), ...proc('r', [['read', 's', undefined, [], 'ok', 1], ['read', 's', undefined, [], 'ok', 0]])];
    expect(names(lines, cleanLog())).toEqual(['nonmonotonic-read']);
  });

  it('subscription-gap: a subscription skipped a version', () => {
    const lines = [...cleanLines().filter((l) => !(l.k === 'sub' && l.v === 0))];
    expect(names(lines, cleanLog())).toEqual(['subscription-gap']);
  });

  it('subscription-reorder: a subscription delivered a version again', () => {
    const lines: Line[] = [...cleanLines(), { k: 'sub', p: 'a1', i: 1, stream: 's', v: 0, id: 'e0', t: t() }];
    expect(names(lines, cleanLog())).toEqual(['subscription-reorder']);
  });

  it('aborted-read: a subscription delivered an event that is not committed', () => {
    const lines: Line[] = [...cleanLines(), { k: 'sub', p: 'a1', i: 1, stream: 's', v: 2, id: 'ghost', t: t() }];
    expect(names(lines, cleanLog())).toEqual(['aborted-read']);
  });

  it('an op whose process died before completing is unknown, never failed', () => {
    const history = historyFrom(proc('a1', [['append', 's', 'no_stream', ['e0'], 'died']]));
    expect(history.ops[0]).toMatchObject({ outcome: 'unknown', code: 'PROCESS_DIED' });
  });
});

describe('availability', () => {
  const base = 100_000;
  const okAt = (p: string, n: number, at: number): Line[] => [
    { k: 'invoke', p, n, op: 'append', stream: 's', ids: [`${p}-${n}`], t: base + at - 5 },
    { k: 'complete', p, n, outcome: 'ok', version: n, t: base + at },
  ];
  const lines: Line[] = [
    { k: 'start', p: 'w1', role: 'writer', t: base, pid: 1 },
    { k: 'start', p: 'w2', role: 'writer', t: base, pid: 2 },
    ...okAt('w1', 0, 500),
    ...okAt('w1', 1, 9_500), // w1 stalls 1 s -> 9.5 s after the fault at 1 s
    ...okAt('w1', 2, 20_500),
    ...okAt('w2', 0, 600),
    ...okAt('w2', 1, 1_200),
  ];
  const run = (ends: { process: string; end: 'exited' | 'killed' | 'wedged'; endT: number }[]) =>
    availability({
      history: historyFrom(lines),
      faults: [{ kind: 'broker-kill', target: 'node 1', startT: base + 1_000, healedT: base + 8_000 }],
      ends,
      runStartT: base,
      faultsEndT: base + 8_000,
      runEndT: base + 21_000,
    });

  it('measures the stall after a fault, acknowledged writes per second, and who did not recover', () => {
    const result = run([
      { process: 'w1', end: 'exited', endT: base + 21_000 },
      { process: 'w2', end: 'exited', endT: base + 21_000 },
    ]);
    expect(result.okPerSecond.slice(0, 3)).toEqual([2, 1, 0]);
    expect(result.stalls[0]).toMatchObject({ kind: 'broker-kill', stallMs: 19_800, stalledProcess: 'w2', firstOkMs: 200 });
    expect(result.notRecovered).toEqual(['w2']);
    expect(result.wedged).toEqual([]);
  });

  it('a process killed by the schedule is not a stall; a wedged one is reported', () => {
    const result = run([
      { process: 'w1', end: 'wedged', endT: base + 21_000 },
      { process: 'w2', end: 'killed', endT: base + 2_000 },
    ]);
    expect(result.stalls[0]).toMatchObject({ stallMs: 11_000, stalledProcess: 'w1' });
    expect(result.notRecovered).toEqual([]);
    expect(result.wedged).toEqual(['w1']);
  });
});
