// The comparison's self-check must catch what it is there for: a gap, a duplicate, an event
// acknowledged but not read back, in a stream read whole or in streams read interleaved.
import { describe, expect, it } from 'vitest';
import { checkHistory, checkStreams, InterleavedHistory, SelfCheckError } from '../../bench/compare/self-check.js';

describe('checkHistory', () => {
  it('accepts consecutive positions from the first, exactly as many as acknowledged', () => {
    expect(() => checkHistory('s', [0, 1, 2], 3, 0)).not.toThrow();
    expect(() => checkHistory('s', [1, 2, 3], 3, 1)).not.toThrow();
    expect(() => checkHistory('s', [], 0, 1)).not.toThrow();
  });

  it('names a gap, a duplicate, a lost and an unacknowledged event', () => {
    expect(() => checkHistory('s', [0, 2], 2, 0)).toThrow(/a gap at read index 1/);
    expect(() => checkHistory('s', [0, 1, 1], 3, 0)).toThrow(/a duplicate at read index 2/);
    expect(() => checkHistory('s', [1, 2], 3, 1)).toThrow(/2 events read back, 3 were acknowledged/);
    expect(() => checkHistory('s', [0, 1, 2], 2, 0)).toThrow(/only 2 were acknowledged/);
    expect(() => checkHistory('s', [1], 1, 0)).toThrow(SelfCheckError);
  });
});

describe('checkStreams', () => {
  it('reads every acknowledged stream back and fails on the first bad one', async () => {
    const stored = new Map([
      ['a', [0, 1]],
      ['b', [0]],
    ]);
    const read = async (id: string) => stored.get(id) ?? [];
    await expect(checkStreams('x', 'w', new Map([['a', 2], ['b', 1]]), 0, read)).resolves.toEqual({ system: 'x', workload: 'w', streams: 2, events: 3 });
    await expect(checkStreams('x', 'w', new Map([['a', 2], ['b', 2]]), 0, read)).rejects.toThrow(/x w b: 1 events read back, 2 were acknowledged/);
  });
});

describe('InterleavedHistory', () => {
  it('follows each stream through interleaved events and checks the totals', () => {
    const history = new InterleavedHistory('catch-up', 1);
    for (const [stream, position] of [['a', 1], ['b', 1], ['a', 2], ['b', 2], ['a', 3]] as const) history.add(stream, position);
    expect(() => history.expect(5, 2)).not.toThrow();
    expect(() => history.expect(6, 2)).toThrow(/5 events read, 6 were stored/);
    expect(() => history.expect(5, 3)).toThrow(/events of 2 streams read, 3 were written/);
  });

  it('fails on a duplicate or a gap in one stream', () => {
    const history = new InterleavedHistory('catch-up', 0);
    history.add('a', 0);
    expect(() => history.add('a', 0)).toThrow(/a duplicate/);
    expect(() => history.add('a', 2)).toThrow(/a gap/);
  });
});
