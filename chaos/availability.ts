// Availability from a history, pure: acknowledged writes per second, the stall after each
// fault, the processes that did not recover after the faults ended or did not close and exit.
import type { History, Op } from './history.js';
import type { FaultKind } from './schedule.js';

export interface AppliedFault {
  readonly kind: FaultKind;
  readonly target: string;
  readonly startT: number;
  /** When the fault was healed (broker restarted and ready, process resumed or replaced). */
  readonly healedT: number;
}

/** How a worker process ended, as the parent saw it. */
export interface ProcessEnd {
  readonly process: string;
  /** killed: by the schedule; exited: closed and exited on request; wedged: did not exit in time and was killed. */
  readonly end: 'exited' | 'killed' | 'wedged';
  readonly endT: number;
  readonly exitCode?: number | null;
}

export interface FaultStall {
  readonly kind: FaultKind;
  readonly target: string;
  readonly startT: number;
  readonly heldMs: number;
  /** The longest time any live process went without an acknowledged write, from the fault's start to the next fault. */
  readonly stallMs: number;
  readonly stalledProcess?: string;
  /** From the fault's start to the first acknowledged write after it, any process. */
  readonly firstOkMs?: number;
}

export interface Availability {
  /** Acknowledged appends and commands per bucket (bucketMs wide) from the run's start. */
  readonly okPerSecond: number[];
  readonly bucketMs: number;
  readonly stalls: FaultStall[];
  /** Longest stall per fault kind. */
  readonly longestStallByKind: Partial<Record<FaultKind, number>>;
  /** Processes alive at the end that acknowledged no write after the faults ended. */
  readonly notRecovered: string[];
  /** Processes that did not close and exit when asked (killed by the harness). */
  readonly wedged: string[];
  /** Processes that closed: how long `close()` took. */
  readonly closeMs: Record<string, number>;
}

export interface AvailabilityInput {
  readonly history: History;
  readonly faults: readonly AppliedFault[];
  readonly ends: readonly ProcessEnd[];
  readonly runStartT: number;
  /** The last fault healed: every process must acknowledge a write after this. */
  readonly faultsEndT: number;
  readonly runEndT: number;
  readonly bucketMs?: number;
}

const okWrite = (op: Op) => (op.op === 'append' || op.op === 'execute') && op.outcome === 'ok' && op.completeT !== undefined;

export function availability(input: AvailabilityInput): Availability {
  const bucketMs = input.bucketMs ?? 1_000;
  const oks = input.history.ops.filter(okWrite).sort((a, b) => a.completeT! - b.completeT!);
  const buckets = new Array<number>(Math.max(1, Math.ceil((input.runEndT - input.runStartT) / bucketMs))).fill(0);
  for (const op of oks) {
    const i = Math.floor((op.completeT! - input.runStartT) / bucketMs);
    if (i >= 0 && i < buckets.length) buckets[i]! += 1;
  }
  const endOf = new Map(input.ends.map((e) => [e.process, e]));
  const okTimes = new Map<string, number[]>();
  for (const op of oks) okTimes.set(op.process, [...(okTimes.get(op.process) ?? []), op.completeT!]);

  const faults = [...input.faults].sort((a, b) => a.startT - b.startT);
  const stalls = faults.map((fault, i): FaultStall => {
    const windowEnd = faults[i + 1]?.startT ?? input.faultsEndT + (input.runEndT - input.faultsEndT);
    let stallMs = 0;
    let stalledProcess: string | undefined;
    for (const [process, life] of input.history.processes) {
      // The process's live span inside the window: from its start (or the fault) to its end (or the window's).
      const from = Math.max(fault.startT, life.startT);
      const until = Math.min(windowEnd, endOf.get(process)?.endT ?? Infinity, life.closingT ?? Infinity);
      if (until <= from) continue;
      const times = (okTimes.get(process) ?? []).filter((t) => t > from && t <= until);
      // A process killed by the schedule is not stalled: it is gone (its replacement is another process).
      const killedHere = endOf.get(process)?.end === 'killed' && (endOf.get(process)?.endT ?? Infinity) <= windowEnd;
      let previous = from;
      let longest = 0;
      for (const t of [...times, ...(killedHere ? [] : [until])]) {
        longest = Math.max(longest, t - previous);
        previous = t;
      }
      if (longest > stallMs) {
        stallMs = longest;
        stalledProcess = process;
      }
    }
    const first = oks.find((op) => op.completeT! > fault.startT);
    return {
      kind: fault.kind,
      target: fault.target,
      startT: fault.startT,
      heldMs: fault.healedT - fault.startT,
      stallMs,
      ...(stalledProcess !== undefined ? { stalledProcess } : {}),
      ...(first ? { firstOkMs: first.completeT! - fault.startT } : {}),
    };
  });
  const longestStallByKind: Partial<Record<FaultKind, number>> = {};
  for (const s of stalls) longestStallByKind[s.kind] = Math.max(longestStallByKind[s.kind] ?? 0, s.stallMs);

  const notRecovered: string[] = [];
  const closeMs: Record<string, number> = {};
  for (const [process, life] of input.history.processes) {
    if (life.closedMs !== undefined) closeMs[process] = life.closedMs;
    if (endOf.get(process)?.end === 'killed') continue;
    const last = (okTimes.get(process) ?? []).at(-1);
    if (last === undefined || last <= input.faultsEndT) notRecovered.push(process);
  }
  const wedged = input.ends.filter((e) => e.end === 'wedged').map((e) => e.process);
  return { okPerSecond: buckets, bucketMs, stalls, longestStallByKind, notRecovered, wedged, closeMs };
}
