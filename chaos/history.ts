// The history of a chaos run: what every process invoked and how each operation completed,
// as JSON lines per process (appendFileSync, so a SIGKILL loses nothing written), and its parser.
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type OpKind = 'append' | 'execute' | 'read';
/** ok; conflict (wrong expected version, with the actual one); fail (definitely not applied, with a code); unknown. */
export type Outcome = 'ok' | 'conflict' | 'fail' | 'unknown';

/** One line of a process's history file. */
export type Line =
  | { k: 'start'; p: string; role: 'writer' | 'client'; t: number; pid: number }
  | { k: 'invoke'; p: string; n: number; op: OpKind; stream: string; expected?: number | string; ids: string[]; t: number }
  | { k: 'complete'; p: string; n: number; outcome: Outcome; code?: string; version?: number; actual?: number; t: number }
  /** A subscription delivered an event; `i` numbers the process's subscriptions. */
  | { k: 'sub'; p: string; i: number; stream: string; v: number; id: string; t: number }
  | { k: 'sub-failed'; p: string; i: number; code: string; t: number }
  | { k: 'closing'; p: string; t: number }
  | { k: 'closed'; p: string; t: number; ms: number; error?: string };

export interface Op {
  readonly process: string;
  readonly n: number;
  readonly op: OpKind;
  readonly stream: string;
  readonly expected?: number | string;
  readonly eventIds: readonly string[];
  readonly invokeT: number;
  /** Absent when the process died before the operation completed (then the outcome is unknown). */
  readonly completeT?: number;
  readonly outcome: Outcome;
  readonly code?: string;
  /** ok append/execute: the version of the last event written; ok read: the stream's head (-1 if none). */
  readonly version?: number;
  /** conflict: the stream's version at the owner. */
  readonly actual?: number;
}

export interface Delivery {
  readonly process: string;
  readonly subscription: number;
  readonly stream: string;
  readonly version: number;
  readonly id: string;
  readonly t: number;
}

export interface ProcessLife {
  readonly process: string;
  readonly role: 'writer' | 'client';
  readonly startT: number;
  closingT?: number;
  closedMs?: number;
  closeError?: string;
}

export interface History {
  readonly ops: Op[];
  readonly deliveries: Delivery[];
  readonly processes: Map<string, ProcessLife>;
}

export const opName = (op: Pick<Op, 'process' | 'n'>): string => `${op.process}#${op.n}`;

/** Appends one line synchronously: it is on disk (in the page cache) before the call returns. */
export function record(file: string, line: Line): void {
  appendFileSync(file, JSON.stringify(line) + '\n');
}

/** Builds a history from lines (in any order across processes, in order within one). */
export function historyFrom(lines: Iterable<Line>): History {
  const invokes = new Map<string, Extract<Line, { k: 'invoke' }>>();
  const completes = new Map<string, Extract<Line, { k: 'complete' }>>();
  const deliveries: Delivery[] = [];
  const processes = new Map<string, ProcessLife>();
  for (const line of lines) {
    switch (line.k) {
      case 'start':
        processes.set(line.p, { process: line.p, role: line.role, startT: line.t });
        break;
      case 'invoke':
        invokes.set(`${line.p}#${line.n}`, line);
        break;
      case 'complete':
        completes.set(`${line.p}#${line.n}`, line);
        break;
      case 'sub':
        deliveries.push({ process: line.p, subscription: line.i, stream: line.stream, version: line.v, id: line.id, t: line.t });
        break;
      case 'closing': {
        const life = processes.get(line.p);
        if (life) life.closingT = line.t;
        break;
      }
      case 'closed': {
        const life = processes.get(line.p);
        if (life) {
          life.closedMs = line.ms;
          if (line.error !== undefined) life.closeError = line.error;
        }
        break;
      }
      default:
        break;
    }
  }
  const ops: Op[] = [];
  for (const [key, inv] of invokes) {
    const done = completes.get(key);
    const base = { process: inv.p, n: inv.n, op: inv.op, stream: inv.stream, eventIds: inv.ids, invokeT: inv.t, ...(inv.expected !== undefined ? { expected: inv.expected } : {}) };
    if (!done) {
      ops.push({ ...base, outcome: 'unknown', code: 'PROCESS_DIED' });
      continue;
    }
    ops.push({
      ...base,
      completeT: done.t,
      outcome: done.outcome,
      ...(done.code !== undefined ? { code: done.code } : {}),
      ...(done.version !== undefined ? { version: done.version } : {}),
      ...(done.actual !== undefined ? { actual: done.actual } : {}),
    });
  }
  ops.sort((a, b) => a.invokeT - b.invokeT);
  return { ops, deliveries, processes };
}

/** Reads every `*.jsonl` history file of a directory; a torn last line (killed mid-write) is skipped. */
export function readHistoryDir(dir: string): History {
  const lines: Line[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    for (const text of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (text.trim() === '') continue;
      try {
        lines.push(JSON.parse(text) as Line);
      } catch {
        // a line cut by SIGKILL in the middle of a write
      }
    }
  }
  return historyFrom(lines);
}
