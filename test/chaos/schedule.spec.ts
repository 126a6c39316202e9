// Specifications of the fault schedule: a seed replays the same faults; CI mode has one fault
// of each kind; long mode fills its duration. No broker.
import { describe, expect, it } from 'vitest';
import { faultKinds, mulberry32, pickFrom, planFaults } from '../../chaos/schedule.js';

describe('the fault schedule', () => {
  it('the same seed gives the same schedule, another seed another one', () => {
    expect(planFaults({ mode: 'ci', seed: 42 })).toEqual(planFaults({ mode: 'ci', seed: 42 }));
    expect(planFaults({ mode: 'long', seed: 7, durationS: 600 })).toEqual(planFaults({ mode: 'long', seed: 7, durationS: 600 }));
    expect(planFaults({ mode: 'ci', seed: 43 })).not.toEqual(planFaults({ mode: 'ci', seed: 42 }));
  });

  it('CI mode has exactly one fault of each kind', () => {
    const kinds = planFaults({ mode: 'ci', seed: 1 }).map((f) => f.kind);
    expect([...kinds].sort()).toEqual([...faultKinds].sort());
  });

  it('long mode plans at least its duration of waits and holds', () => {
    const faults = planFaults({ mode: 'long', seed: 3, durationS: 900 });
    expect(faults.reduce((sum, f) => sum + f.waitMs + f.holdMs, 0)).toBeGreaterThanOrEqual(900_000);
    expect(new Set(faults.map((f) => f.kind)).size).toBeGreaterThan(5);
  });

  it('a pause holds past the writers session timeout (6 s)', () => {
    for (const f of planFaults({ mode: 'long', seed: 9, durationS: 3_600 })) {
      if (f.kind === 'broker-pause' || f.kind === 'writer-pause' || f.kind === 'writer-pause-in-rebalance') expect(f.holdMs).toBeGreaterThan(6_000);
      expect(f.pick).toBeGreaterThanOrEqual(0);
      expect(f.pick).toBeLessThan(1);
    }
  });

  it('mulberry32 is deterministic and in [0, 1); pickFrom covers every candidate', () => {
    const a = mulberry32(5);
    const b = mulberry32(5);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs.map((x) => pickFrom([1, 2, 3], x)))).toEqual(new Set([1, 2, 3]));
  });
});
