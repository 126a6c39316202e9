// The chaos harness's CI mode (fixed seed, one fault of each kind) on a 3-broker cluster of its
// own: no anomaly, every process recovers after the faults and closes and exits, and a single
// broker's failure stalls appends no longer than a session timeout plus a leader election.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runChaos, sessionTimeoutMs, summary, type ChaosResult } from '../../chaos/run.js';
import { faultKinds } from '../../chaos/schedule.js';

/** Broker session (3 s) + writer session (6 s) + a leader election and a loaded 2-core machine's slack. */
const singleBrokerStallBoundMs = sessionTimeoutMs + 3_000 + 6_000;

describe('chaos, CI mode', () => {
  let result: ChaosResult;

  it('runs one fault of each kind against writers and clients (seed 1)', async () => {
    const out = '.scribe/chaos-ci';
    rmSync(out, { recursive: true, force: true });
    result = await runChaos({ mode: 'ci', seed: 1, writers: 3, clients: 2, streams: 12, out, log: (line) => process.stderr.write(`${line}\n`) });
    process.stderr.write(`${summary(result)}\n`);
    expect(result.faults.map((f) => f.kind).sort()).toEqual([...faultKinds].sort());
  }, 1_800_000);

  it('finds no anomaly in the history against the log read back read_committed', () => {
    expect(result.anomalies).toEqual([]);
    expect(result.eventsRead).toBeGreaterThan(0);
  });

  it('every process recovered after the faults, then closed and exited when asked', () => {
    expect(result.availability.notRecovered).toEqual([]);
    expect(result.availability.wedged).toEqual([]);
  });

  it('a single broker failure stalls no process longer than a session timeout plus a leader election; rolling restarts too', () => {
    const single = ['broker-kill', 'broker-pause', 'leader-kill', 'coordinator-kill', 'controller-kill', 'rolling-restart'];
    const stalls = result.availability.stalls.filter((s) => single.includes(s.kind)).map((s) => ({ kind: s.kind, stallMs: s.stallMs }));
    expect(stalls.filter((s) => s.stallMs > singleBrokerStallBoundMs)).toEqual([]);
  });
});
