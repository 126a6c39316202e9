// A chaos worker process: an EventStore (writer or client) that appends with expected versions,
// runs commands with `execute`, reads its streams back and follows a subscription, recording
// every operation's invocation and completion to `<out>/<process>.jsonl` as it goes.
import { join } from 'node:path';
import { EventStore, StreamNotFoundError, WrongExpectedVersionError, type Decider, type ExpectedVersion, type Subscription } from '../src/index.js';
import { record, type Line, type OpKind, type Outcome } from './history.js';
import { mulberry32 } from './schedule.js';

export interface WorkerConfig {
  readonly process: string;
  readonly role: 'writer' | 'client';
  readonly brokers: readonly string[];
  readonly store: string;
  readonly partitions: number;
  readonly out: string;
  /** Streams appended with expected versions; the first is the hot one, chosen more often. */
  readonly streams: readonly string[];
  /** Streams for `execute`. */
  readonly commandStreams: readonly string[];
  readonly loops: number;
  /** Pause between a loop's operations, to keep a shared 2-core machine breathing. */
  readonly pauseMs: number;
  readonly seed: number;
  readonly sessionTimeoutMs: number;
  readonly transactionTimeoutMs: number;
  readonly appendTimeoutMs: number;
  readonly subscribe: boolean;
}

/** Outcomes Scribe declares definite ("nothing was stored"); everything else that is not ok or a conflict is unknown. */
const definiteFailures = new Set(['OWNERSHIP_CHANGED', 'APPEND_ABORTED', 'INVALID_EVENT', 'INVALID_ARGUMENT', 'EVENT_ID_CONFLICT', 'DECIDER_NOT_REGISTERED', 'COMMAND_REJECTED', 'STREAM_NOT_FOUND']);

const counter: Decider<{ count: number }, { type: 'Increment' }, { type: 'Incremented'; data: { by: number } }> = {
  initialState: () => ({ count: 0 }),
  evolve: (state) => ({ count: state.count + 1 }),
  decide: () => [{ type: 'Incremented', data: { by: 1 } }],
};

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
const file = join(config.out, `${config.process}.jsonl`);
const p = config.process;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let stopping = false;
let n = 0;

function classify(error: unknown): { outcome: Outcome; code: string; actual?: number } {
  if (error instanceof WrongExpectedVersionError) return { outcome: 'conflict', code: error.code, actual: error.actual };
  const code = (error as { code?: unknown })?.code;
  const name = typeof code === 'string' ? code : error instanceof Error ? error.name : 'ERROR';
  return { outcome: definiteFailures.has(name) ? 'fail' : 'unknown', code: name };
}

/** Runs one operation and records its invocation, then its completion. */
async function operate(op: OpKind, stream: string, expected: ExpectedVersion | undefined, ids: string[], run: () => Promise<number>): Promise<{ outcome: Outcome; version?: number; actual?: number }> {
  const id = n++;
  record(file, { k: 'invoke', p, n: id, op, stream, ids, t: Date.now(), ...(expected !== undefined ? { expected } : {}) });
  try {
    const version = await run();
    record(file, { k: 'complete', p, n: id, outcome: 'ok', version, t: Date.now() });
    return { outcome: 'ok', version };
  } catch (error) {
    const c = classify(error);
    record(file, { k: 'complete', p, n: id, outcome: c.outcome, code: c.code, t: Date.now(), ...(c.actual !== undefined ? { actual: c.actual } : {}) });
    return c;
  }
}

async function connect(): Promise<EventStore> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await EventStore.connect({
        brokers: config.brokers,
        store: config.store,
        partitions: config.partitions,
        replicationFactor: 3,
        writer: config.role === 'writer',
        dataDir: join(config.out, 'data', p),
        sessionTimeoutMs: config.sessionTimeoutMs,
        transactionTimeoutMs: config.transactionTimeoutMs,
        appendTimeoutMs: config.appendTimeoutMs,
        clientId: `chaos-${p}`,
        // Operational lines (writers failing and recovering, clients parked at close) go to <process>.log.
        log: (line) => process.stderr.write(`[${p}] ${new Date().toISOString()} ${line}\n`),
      });
    } catch (error) {
      if (attempt >= 20) throw error;
      process.stderr.write(`[${p}] connect failed (${String(error)}), again\n`);
      await sleep(1_000);
    }
  }
}

async function main(): Promise<void> {
  record(file, { k: 'start', p, role: config.role, t: Date.now(), pid: process.pid });
  const store = await connect();
  store.register('counter', counter);
  process.send?.({ type: 'ready' });
  // The version this process last learnt per stream (from an ok append or a conflict).
  const known = new Map<string, number>();

  let subscription: Subscription | undefined;
  let buffer: Line[] = [];
  const flush = () => {
    if (buffer.length === 0) return;
    const lines = buffer;
    buffer = [];
    for (const line of lines) record(file, line);
  };
  const flusher = setInterval(flush, 250);
  const follow = async (i: number): Promise<void> => {
    subscription = await store.subscribe({ from: 'start' }, (event) => {
      buffer.push({ k: 'sub', p, i, stream: event.streamId, v: event.version, id: event.id, t: Date.now() });
    });
    subscription.done.catch((error: unknown) => {
      if (stopping) return;
      record(file, { k: 'sub-failed', p, i, code: classify(error).code, t: Date.now() });
      void follow(i + 1).catch(() => undefined);
    });
  };
  if (config.subscribe) await follow(1);

  const loop = async (index: number) => {
    const random = mulberry32(config.seed + index * 7919 + [...p].reduce((h, c) => h * 31 + c.charCodeAt(0), 0));
    while (!stopping) {
      const roll = random();
      if (roll < 0.15) {
        const stream = config.commandStreams[Math.floor(random() * config.commandStreams.length)]!;
        const commandId = `${p}-c${n}`;
        for (let attempt = 0; attempt < 3 && !stopping; attempt++) {
          const r = await operate('execute', stream, undefined, [`${commandId}/0`], async () => (await store.execute('counter', stream, { type: 'Increment' }, { commandId })).nextExpectedVersion);
          if (r.outcome !== 'unknown') break;
        }
      } else if (roll < 0.3) {
        const stream = random() < 0.5 ? config.streams[Math.floor(random() * config.streams.length)]! : `${p}-own-${Math.floor(random() * 3)}`;
        await operate('read', stream, undefined, [], async () => {
          try {
            let head = -1;
            for await (const event of store.readStream(stream, { direction: 'backwards', maxCount: 1 })) head = event.version;
            return head;
          } catch (error) {
            if (error instanceof StreamNotFoundError) return -1;
            throw error;
          }
        });
      } else {
        // The hot stream, a stream shared by every process, or one of this process's own.
        const where = random();
        const stream = where < 0.25 ? config.streams[0]! : where < 0.6 ? config.streams[Math.floor(random() * config.streams.length)]! : `${p}-own-${Math.floor(random() * 3)}`;
        const count = random() < 0.8 ? 1 : 2;
        const ids = Array.from({ length: count }, (_, i) => `${p}-${n}-${i}`);
        const base = known.get(stream);
        const expected: ExpectedVersion = base === undefined || base < 0 ? 'no_stream' : base;
        const events = ids.map((id) => ({ id, type: 'Appended', data: { by: p } }));
        // An unknown outcome is retried with the same ids: Scribe applies it at most once.
        for (let attempt = 0; attempt < 3 && !stopping; attempt++) {
          const r = await operate('append', stream, expected, ids, async () => (await store.append(stream, events, { expectedVersion: expected })).nextExpectedVersion);
          if (r.outcome === 'ok') {
            known.set(stream, r.version!);
          }
          if (r.outcome === 'conflict') known.set(stream, r.actual!);
          if (r.outcome !== 'unknown') break;
        }
      }
      await sleep(config.pauseMs * (0.5 + random()));
    }
  };
  const loops = Array.from({ length: config.loops }, (_, i) => loop(i));

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Operations in flight finish (each bounded by appendTimeoutMs), then the store closes, timed.
    await Promise.race([Promise.all(loops), sleep(config.appendTimeoutMs + 5_000)]);
    flush();
    const t0 = Date.now();
    record(file, { k: 'closing', p, t: t0 });
    let error: string | undefined;
    try {
      await store.close();
    } catch (e) {
      error = String(e);
    }
    clearInterval(flusher);
    flush();
    record(file, { k: 'closed', p, t: Date.now(), ms: Date.now() - t0, ...(error !== undefined ? { error } : {}) });
    process.exit(0);
  };
  process.on('message', (message: { cmd?: string }) => {
    if (message.cmd === 'stop') void stop();
  });
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`[${p}] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
