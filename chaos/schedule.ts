// The fault schedule, pure: a seeded PRNG (mulberry32) turns a seed into a list of faults with
// their waits, durations and target picks, so a later run with the same seed replays it.

export const faultKinds = [
  'broker-kill', // SIGKILL a random broker, restart it after the hold
  'broker-pause', // SIGSTOP a random broker past the session and request timeouts, SIGCONT
  'leader-kill', // SIGKILL the leader of the hot stream's partition (found through the admin API)
  'coordinator-kill', // SIGKILL the transaction coordinator of the hot partition's owner (`<store>.p<n>`)
  'two-brokers-down', // SIGKILL two brokers at once, restart both
  'controller-kill', // SIGKILL the active KRaft controller
  'rolling-restart', // clean restart of every broker, one after the other
  'writer-kill', // SIGKILL a writer process while it commits, start a new one after the hold
  'writer-pause', // SIGSTOP a writer past its session timeout (others take over), SIGCONT
  'writers-kill-in-rebalance', // SIGKILL a writer, and another one while the group rebalances
  'writer-pause-in-rebalance', // a new writer joins; SIGSTOP another one in the middle of the rebalance, past its session timeout
] as const;

export type FaultKind = (typeof faultKinds)[number];

export interface PlannedFault {
  readonly kind: FaultKind;
  /** Quiet time before the fault starts (after the previous one healed). */
  readonly waitMs: number;
  /** How long the fault holds before it heals (a rolling restart ignores it). */
  readonly holdMs: number;
  /** In [0, 1): picks the target among the candidates found when the fault starts. */
  readonly pick: number;
}

export interface ScheduleOptions {
  readonly mode: 'ci' | 'long';
  readonly seed: number;
  /** Long mode: enough faults for this many seconds (the runner stops at the deadline). */
  readonly durationS?: number;
}

/** mulberry32: a tiny, well-mixed 32-bit PRNG; returns numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hold ranges per kind, in ms: long enough to pass the timeouts the fault is about. */
const holds: Record<FaultKind, readonly [number, number]> = {
  'broker-kill': [5_000, 10_000],
  'broker-pause': [12_000, 16_000], // past the writers' 6 s session and the broker's 3 s session
  'leader-kill': [5_000, 10_000],
  'coordinator-kill': [5_000, 10_000],
  'two-brokers-down': [5_000, 8_000],
  'controller-kill': [5_000, 10_000],
  'rolling-restart': [0, 0],
  'writer-kill': [2_000, 5_000],
  'writer-pause': [9_000, 12_000], // past the writers' session timeout
  'writers-kill-in-rebalance': [2_000, 5_000],
  'writer-pause-in-rebalance': [9_000, 12_000],
};

const between = (random: () => number, [low, high]: readonly [number, number]) => Math.round(low + random() * (high - low));

/** CI mode: every kind once, in a seeded order, short waits. Long mode: seeded kinds, longer waits. */
export function planFaults(options: ScheduleOptions): PlannedFault[] {
  const random = mulberry32(options.seed);
  if (options.mode === 'ci') {
    const kinds = [...faultKinds];
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
    return kinds.map((kind) => ({ kind, waitMs: between(random, [4_000, 7_000]), holdMs: between(random, holds[kind]), pick: random() }));
  }
  const durationMs = (options.durationS ?? 1_800) * 1_000;
  const faults: PlannedFault[] = [];
  // A generous upper bound: each fault takes at least its wait and hold.
  for (let planned = 0; planned < durationMs; ) {
    const kind = faultKinds[Math.floor(random() * faultKinds.length)]!;
    const fault = { kind, waitMs: between(random, [5_000, 30_000]), holdMs: between(random, holds[kind]), pick: random() };
    faults.push(fault);
    planned += fault.waitMs + fault.holdMs;
  }
  return faults;
}

/** Picks one of the candidates with a number in [0, 1). */
export function pickFrom<T>(candidates: readonly T[], pick: number): T {
  if (candidates.length === 0) throw new Error('no candidate to pick from');
  return candidates[Math.min(candidates.length - 1, Math.floor(pick * candidates.length))]!;
}
