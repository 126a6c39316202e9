// The independent checker, pure: a history (what processes were told) against the events
// topic read back (what Kafka holds), anomalies named in Jepsen's vocabulary where it applies.
import { opName, type Delivery, type History, type Op } from './history.js';

/** One event as an independent read_committed reader found it in `<store>.events`. */
export interface StoredEvent {
  readonly stream: string;
  readonly version: number;
  readonly id: string;
  readonly partition: number;
  readonly offset: number;
}

export type AnomalyName =
  | 'lost-write' // an acknowledged append's events are not in the log
  | 'duplicate' // an event id is stored twice
  | 'unknown-applied-twice' // an append with an unknown outcome, retried with the same ids, stored twice
  | 'aborted-read' // events of an append that failed or conflicted are visible (G1a); or a subscriber saw an event not in the log
  | 'version-duplicate' // a stream holds a version twice (I1)
  | 'version-gap' // a stream skips a version (I1)
  | 'version-order' // a stream's versions are not in offset order (I1)
  | 'concurrent-accept' // two different appends accepted with the same numeric expected version (I2)
  | 'ok-wrong-version' // an acknowledged append was told a version other than the one stored
  | 'nonmonotonic-read' // a read saw less than the same process had written or read before (read-your-writes)
  | 'subscription-gap' // a subscription skipped a stream's version
  | 'subscription-reorder'; // a subscription delivered a stream's version again or out of order

export interface Anomaly {
  readonly name: AnomalyName;
  readonly stream?: string;
  readonly ops?: readonly string[];
  readonly detail: string;
}

const isWrite = (op: Op) => op.op === 'append' || op.op === 'execute';

export function checkHistory(history: History, log: readonly StoredEvent[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const byId = new Map<string, StoredEvent[]>();
  for (const event of log) byId.set(event.id, [...(byId.get(event.id) ?? []), event]);
  const writes = history.ops.filter(isWrite);
  // Ops that carry the same event ids are attempts of one logical append (a retry).
  const attempts = new Map<string, Op[]>();
  for (const op of writes) for (const id of op.eventIds) attempts.set(id, [...(attempts.get(id) ?? []), op]);

  for (const [id, stored] of byId) {
    if (stored.length < 2) continue;
    const ops = attempts.get(id) ?? [];
    const retriedUnknown = ops.length > 1 && ops.some((op) => op.outcome === 'unknown');
    anomalies.push({
      name: retriedUnknown ? 'unknown-applied-twice' : 'duplicate',
      stream: stored[0]!.stream,
      ops: ops.map(opName),
      detail: `event ${id} stored ${stored.length} times: ${stored.map((e) => `v${e.version}@${e.partition}:${e.offset}`).join(', ')}`,
    });
  }

  for (const op of writes) {
    if (op.outcome === 'ok') {
      const missing = op.eventIds.filter((id) => !byId.has(id));
      if (missing.length > 0) {
        anomalies.push({ name: 'lost-write', stream: op.stream, ops: [opName(op)], detail: `acknowledged at version ${op.version}, ${missing.length} of ${op.eventIds.length} events absent (${missing[0]})` });
        continue;
      }
      const last = byId.get(op.eventIds[op.eventIds.length - 1]!)![0]!;
      if (op.version !== undefined && last.version !== op.version) {
        anomalies.push({ name: 'ok-wrong-version', stream: op.stream, ops: [opName(op)], detail: `told version ${op.version}, stored at version ${last.version}` });
      }
    } else if (op.outcome === 'fail' || op.outcome === 'conflict') {
      const visible = op.eventIds.filter((id) => byId.has(id));
      const retried = op.eventIds.some((id) => (attempts.get(id) ?? []).some((other) => other !== op && (other.outcome === 'ok' || other.outcome === 'unknown')));
      if (visible.length > 0 && !retried) {
        anomalies.push({ name: 'aborted-read', stream: op.stream, ops: [opName(op)], detail: `${op.outcome}${op.code ? ` (${op.code})` : ''} yet ${visible.length} of its events are visible (${visible[0]})` });
      }
    }
  }

  anomalies.push(...checkStreams(log));
  anomalies.push(...checkConcurrentAccepts(writes));
  anomalies.push(...checkReads(history.ops));
  anomalies.push(...checkSubscriptions(history.deliveries, byId));
  return anomalies;
}

/** I1: per stream, in offset order, versions 0, 1, 2, ... each once. */
function checkStreams(log: readonly StoredEvent[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const streams = new Map<string, StoredEvent[]>();
  for (const event of log) streams.set(event.stream, [...(streams.get(event.stream) ?? []), event]);
  for (const [stream, events] of streams) {
    events.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const seen = new Set<number>();
    let previous = -1;
    for (const event of events) {
      if (seen.has(event.version)) anomalies.push({ name: 'version-duplicate', stream, detail: `version ${event.version} stored again at ${event.partition}:${event.offset} (${event.id})` });
      else if (event.version < previous) anomalies.push({ name: 'version-order', stream, detail: `version ${event.version} at ${event.partition}:${event.offset} after version ${previous}` });
      seen.add(event.version);
      previous = Math.max(previous, event.version);
    }
    for (let v = 0; v <= previous; v++) {
      if (!seen.has(v)) anomalies.push({ name: 'version-gap', stream, detail: `version ${v} missing (the stream reaches ${previous})` });
    }
  }
  return anomalies;
}

/** I2: at most one append accepted per stream and numeric expected version (retries of one append count once). */
function checkConcurrentAccepts(writes: readonly Op[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const accepted = new Map<string, Op[]>();
  for (const op of writes) {
    if (op.op !== 'append' || op.outcome !== 'ok' || typeof op.expected !== 'number') continue;
    const key = `${op.stream}\u0000${op.expected}`;
    const others = accepted.get(key) ?? [];
    const rival = others.find((other) => !other.eventIds.some((id) => op.eventIds.includes(id)));
    if (rival) anomalies.push({ name: 'concurrent-accept', stream: op.stream, ops: [opName(rival), opName(op)], detail: `two appends accepted at expected version ${op.expected}` });
    accepted.set(key, [...others, op]);
  }
  return anomalies;
}

/**
 * Read-your-writes and monotonic reads, per process: a read that began after an acknowledged
 * write (or a completed read) of the same process must see at least its version.
 */
function checkReads(ops: readonly Op[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const byProcess = new Map<string, Op[]>();
  for (const op of ops) if (op.outcome === 'ok' && op.version !== undefined && op.completeT !== undefined) byProcess.set(op.process, [...(byProcess.get(op.process) ?? []), op]);
  for (const list of byProcess.values()) {
    const done = [...list].sort((a, b) => a.completeT! - b.completeT!);
    for (const read of list) {
      if (read.op !== 'read') continue;
      const before = done.filter((op) => op !== read && op.stream === read.stream && op.completeT! < read.invokeT && op.version! > read.version!);
      const worst = before.reduce<Op | undefined>((best, op) => (best && best.version! >= op.version! ? best : op), undefined);
      if (worst) {
        anomalies.push({
          name: 'nonmonotonic-read',
          stream: read.stream,
          ops: [opName(worst), opName(read)],
          detail: `read saw version ${read.version} after ${opName(worst)} (${worst.op}) had ${worst.op === 'read' ? 'seen' : 'written'} version ${worst.version}`,
        });
      }
    }
  }
  return anomalies;
}

/** Each subscription delivers every stream's versions 0, 1, 2, ... in order, once, and only committed events. */
function checkSubscriptions(deliveries: readonly Delivery[], byId: Map<string, StoredEvent[]>): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const last = new Map<string, number>();
  for (const d of deliveries) {
    const key = `${d.process}\u0000${d.subscription}\u0000${d.stream}`;
    const previous = last.get(key) ?? -1;
    const where = `subscription ${d.process}/${d.subscription}`;
    if (d.version > previous + 1) anomalies.push({ name: 'subscription-gap', stream: d.stream, detail: `${where} went from version ${previous} to ${d.version}` });
    else if (d.version <= previous) anomalies.push({ name: 'subscription-reorder', stream: d.stream, detail: `${where} delivered version ${d.version} after ${previous}` });
    if (!byId.has(d.id)) anomalies.push({ name: 'aborted-read', stream: d.stream, detail: `${where} delivered ${d.id} (version ${d.version}), which is not in the committed log` });
    last.set(key, Math.max(previous, d.version));
  }
  return anomalies;
}
