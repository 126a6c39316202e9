// A benchmark writer process: one EventStore (writer: true) in its own OS process, driven by
// the scale-out scenario over IPC, with its own load generator for the partitions it owns.
// (test/support/writer-process.ts races random streams for correctness tests and runs under
// tsx; this one drives timed, uncontended load and runs from dist/ like the rest of bench/.)
import { performance } from 'node:perf_hooks';
import { EventStore, type ConnectOptions, type KafkaEventStore } from '../src/index.js';
import { payloadOf, transactionsFromOffsets } from './store-fixture.js';

export type WriterCommand =
  | { readonly cmd: 'connect'; readonly options: ConnectOptions }
  | { readonly cmd: 'owned'; readonly ref: number }
  | { readonly cmd: 'drive'; readonly ref: number; readonly target: LoadTarget; readonly workers: number; readonly streams: number; readonly eventSize: number }
  | { readonly cmd: 'halt'; readonly ref: number }
  | { readonly cmd: 'sample'; readonly ref: number }
  | { readonly cmd: 'window'; readonly ref: number; readonly from: number; readonly to: number; readonly withEnds?: boolean }
  | { readonly cmd: 'close' };

/**
 * Whose streams the load appends to: those of the partitions this process owns (every append
 * takes the fast path), or those of every partition (appends to partitions owned elsewhere go
 * through `<store>.appends` to their owner, as from a client that does not know who owns what).
 */
export type LoadTarget = 'owned' | 'all';

/** What the load did between two instants: acknowledged appends and their latencies. */
export interface WindowReport {
  readonly acks: number;
  readonly latenciesMs: number[];
  /** Transactions that carried them, from their positions (store-fixture's transactionsFromOffsets). */
  readonly transactions: number;
  /** Failed appends per error code (each failure retires its stream: its version is uncertain). */
  readonly failures: Record<string, number>;
  /** With `withEnds`: per partition, when each acknowledged append ended (epoch ms, ascending). */
  readonly endsByPartition?: Record<number, number[]>;
}

export type WriterReport =
  | { readonly type: 'connected'; readonly pid: number }
  | { readonly type: 'owned'; readonly ref: number; readonly owned: number[] }
  | { readonly type: 'driving'; readonly ref: number; readonly partitions: number[]; readonly streams: number }
  | { readonly type: 'halted'; readonly ref: number }
  | { readonly type: 'sample'; readonly ref: number; readonly cpuUs: number }
  | { readonly type: 'window'; readonly ref: number; readonly report: WindowReport }
  | { readonly type: 'error'; readonly message: string };

const eventType = 'ScaleOutAppended';
/** Epoch milliseconds with sub-millisecond precision, comparable between processes on one machine. */
const now = () => performance.timeOrigin + performance.now();

let store: KafkaEventStore | undefined;
let load: Load | undefined;
const send = (report: WriterReport) => process.send?.(report);

/** Every acknowledged append (its end, epoch ms, latency and position) and every failure (its end and code). */
class AppendLog {
  readonly ends: number[] = [];
  readonly latencies: number[] = [];
  readonly partitions: number[] = [];
  readonly offsets: string[] = [];
  readonly failureEnds: number[] = [];
  readonly failureCodes: string[] = [];

  window(from: number, to: number, withEnds = false): WindowReport {
    const latenciesMs: number[] = [];
    const positions: { partition: number; offset: string }[] = [];
    const endsByPartition: Record<number, number[]> = {};
    for (let i = 0; i < this.ends.length; i++) {
      if (this.ends[i]! < from || this.ends[i]! >= to) continue;
      latenciesMs.push(this.latencies[i]!);
      positions.push({ partition: this.partitions[i]!, offset: this.offsets[i]! });
      if (withEnds) (endsByPartition[this.partitions[i]!] ??= []).push(this.ends[i]!);
    }
    const failures: Record<string, number> = {};
    for (let i = 0; i < this.failureEnds.length; i++) {
      if (this.failureEnds[i]! >= from && this.failureEnds[i]! < to) failures[this.failureCodes[i]!] = (failures[this.failureCodes[i]!] ?? 0) + 1;
    }
    return { acks: latenciesMs.length, latenciesMs, transactions: transactionsFromOffsets(positions), failures, ...(withEnds ? { endsByPartition } : {}) };
  }
}
const appendLog = new AppendLog();

/**
 * Uncontended load on the streams of the partitions this process owns when it starts (or of
 * every partition, see LoadTarget): worker
 * w of c appends to its own streams w, w+c, w+2c, ... in turn with the exact expected version,
 * as append-uncontended does, so none conflicts. The
 * streams are new (named after this process and the load's generation), so no other process
 * ever wrote them and their versions are known here.
 */
class Load {
  private running = true;
  private readonly done: Promise<void>;

  private constructor(
    readonly partitions: number[],
    private readonly streams: string[],
    private readonly versions: Int32Array,
    workers: number,
    eventSize: number,
  ) {
    const events = [{ type: eventType, data: payloadOf(eventSize) }];
    this.done = Promise.all(Array.from({ length: workers }, (_, w) => this.worker(w, workers, events))).then(() => undefined);
  }

  static async start(s: KafkaEventStore, generation: number, target: LoadTarget, workers: number, streamCount: number, eventSize: number): Promise<Load> {
    const partitions = target === 'owned' ? s.ownedPartitions : Array.from({ length: s.partitions }, (_, p) => p);
    if (partitions.length === 0) throw new Error('owns no partition: nothing to drive');
    const targeted = new Set(partitions);
    const streams: string[] = [];
    for (let k = 0; streams.length < Math.max(streamCount, workers); k++) {
      const id = `so-${process.pid}-${generation}-${k}`;
      if (targeted.has(s.partitionOf(id))) streams.push(id);
    }
    const versions = new Int32Array(streams.length).fill(-1);
    // One append per owned partition before the load starts: it waits for each writer to be ready.
    const firsts = partitions.map((p) => streams.findIndex((id) => s.partitionOf(id) === p)).filter((i) => i >= 0);
    await Promise.all(
      firsts.map(async (i) => {
        const result = await s.append(streams[i]!, [{ type: eventType, data: payloadOf(eventSize) }], { expectedVersion: 'no_stream' });
        versions[i] = result.nextExpectedVersion;
      }),
    );
    return new Load(partitions, streams, versions, workers, eventSize);
  }

  get streamCount(): number {
    return this.streams.length;
  }

  /** Stops issuing appends; resolves when the ones in flight have settled. */
  stop(): Promise<void> {
    this.running = false;
    return this.done;
  }

  private async worker(w: number, workers: number, events: { type: string; data: string }[]): Promise<void> {
    const mine: number[] = [];
    for (let s = w; s < this.streams.length; s += workers) mine.push(s);
    for (let j = 0; this.running && mine.length > 0; j++) {
      const at = j % mine.length;
      const s = mine[at]!;
      const began = performance.now();
      try {
        const version = this.versions[s]!;
        const result = await store!.append(this.streams[s]!, events, { expectedVersion: version < 0 ? 'no_stream' : version });
        this.versions[s] = result.nextExpectedVersion;
        appendLog.latencies.push(performance.now() - began);
        appendLog.ends.push(now());
        appendLog.partitions.push(result.position.partition);
        appendLog.offsets.push(result.position.offset);
      } catch (error) {
        appendLog.failureCodes.push((error as { code?: string }).code ?? 'UNKNOWN');
        appendLog.failureEnds.push(now());
        // An unknown outcome leaves the stream's version uncertain: stop using the stream.
        mine.splice(at, 1);
      }
    }
  }
}

// The scenario that forked this process owns it: when the parent goes, so does this.
process.on('disconnect', () => process.exit(0));

let generation = 0;
process.on('message', (command: WriterCommand) => {
  void (async () => {
    try {
      switch (command.cmd) {
        case 'connect':
          // The store's operational messages (writers starting, stopping, failing) go to stderr.
          store = await EventStore.connect({ ...command.options, log: (line) => process.stderr.write(`[writer ${process.pid}] ${line}\n`) });
          send({ type: 'connected', pid: process.pid });
          break;
        case 'owned':
          send({ type: 'owned', ref: command.ref, owned: store?.ownedPartitions ?? [] });
          break;
        case 'drive': {
          // Retargets: the previous load stops (its appends settle), the new one covers what is owned now.
          await load?.stop();
          load = await Load.start(store!, ++generation, command.target, command.workers, command.streams, command.eventSize);
          send({ type: 'driving', ref: command.ref, partitions: load.partitions, streams: load.streamCount });
          break;
        }
        case 'halt':
          await load?.stop();
          load = undefined;
          send({ type: 'halted', ref: command.ref });
          break;
        case 'sample': {
          const cpu = process.cpuUsage();
          send({ type: 'sample', ref: command.ref, cpuUs: cpu.user + cpu.system });
          break;
        }
        case 'window':
          send({ type: 'window', ref: command.ref, report: appendLog.window(command.from, command.to, command.withEnds) });
          break;
        case 'close':
          await load?.stop();
          await store?.close();
          process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  })();
});
