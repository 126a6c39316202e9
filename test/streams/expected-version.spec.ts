// The optimistic-concurrency rule, on its own: which current versions satisfy which expectation.
import { describe, expect, it } from 'vitest';
import { matchesExpectedVersion } from '../../src/index.js';
import { validateExpectedVersion } from '../../src/streams/expected-version.js';

describe('matchesExpectedVersion', () => {
  it("'no_stream' holds only for a stream without events (version -1)", () => {
    expect(matchesExpectedVersion(-1, 'no_stream')).toBe(true);
    expect(matchesExpectedVersion(0, 'no_stream')).toBe(false);
  });
  it("'stream_exists' holds once the stream has an event", () => {
    expect(matchesExpectedVersion(-1, 'stream_exists')).toBe(false);
    expect(matchesExpectedVersion(0, 'stream_exists')).toBe(true);
  });
  it("'any' always holds", () => {
    expect(matchesExpectedVersion(-1, 'any')).toBe(true);
    expect(matchesExpectedVersion(41, 'any')).toBe(true);
  });
  it('a number holds only for exactly that version', () => {
    expect(matchesExpectedVersion(7, 7)).toBe(true);
    expect(matchesExpectedVersion(8, 7)).toBe(false);
    expect(matchesExpectedVersion(6, 7)).toBe(false);
  });
  it('accepts the states and integers from -1, and refuses everything else', () => {
    for (const ok of ['no_stream', 'stream_exists', 'any', -1, 0, 12]) expect(() => validateExpectedVersion(ok)).not.toThrow();
    for (const bad of ['latest', -2, 1.5, Number.NaN, null, undefined, '3']) expect(() => validateExpectedVersion(bad)).toThrow(/expectedVersion/);
  });
});
