// append-contended: many writers append to ONE stream with optimistic concurrency. Each
// writer appends with the version it last knew; a WrongExpectedVersionError carries the
// stream's actual version, which the writer adopts before it tries again. What counts is
// accepted appends per second, how many conflicts (retries) each accepted append cost, and
// the latency of an accepted append from its first attempt to its success, next to the raw
// transactional producer measured in the same repetition.
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { WrongExpectedVersionError, type EventStore, type KafkaEventStore } from '../../src/index.js';
import { positiveInteger, positiveIntegers, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { latencySummary, medianFormatter, perSecond, round } from '../stats.js';
import { besideRawReference, defineStoreBenchOptions, parseStoreBenchOptions, referenceOf, type StoreBenchOptions, payloadOf, randomSuffix, ratiosToRaw, withFreshStore } from '../store-fixture.js';

export interface AppendContendedOptions extends StoreBenchOptions {
  /** Concurrent writers on the one stream, one measurement per value. */
  readonly writers: number[];
  /** Accepted appends per level (the writers stop once this many were accepted). */
  readonly appends: number;
  /** Before every attempt (first or retry) a writer "decides" for a random 0..thinkMs ms (0: it appends at once). */
  readonly thinkMs: number;
}

const eventType = 'BenchContended';

/** The stream's last version, read back through the store. */
async function lastVersion(store: KafkaEventStore, streamId: string): Promise<number> {
  for await (const event of store.readStream(streamId, { direction: 'backwards', maxCount: 1 })) return event.version;
  return -1;
}

async function measureLevel(store: KafkaEventStore, streamId: string, o: AppendContendedOptions, writers: number) {
  const events = [{ type: eventType, data: payloadOf(o.eventSize) }];
  const latencies: number[] = [];
  let accepted = 0;
  let conflicts = 0;
  let attempts = 0;
  const acceptedBy = new Array<number>(writers).fill(0);
  /** How long the appends still retrying when the level ended had been trying. */
  const abandonedMs: number[] = [];

  const writer = async (w: number) => {
    // Each writer starts from what it reads; afterwards it knows its own result or the actual version of a conflict.
    let known = await lastVersion(store, streamId);
    while (accepted < o.appends) {
      const began = performance.now();
      for (;;) {
        if (accepted >= o.appends) {
          // The level is over: abandon this append, but keep how long it had waited.
          abandonedMs.push(performance.now() - began);
          return;
        }
        if (o.thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * o.thinkMs));
        attempts++;
        try {
          const result = await store.append(streamId, events, { expectedVersion: known });
          known = result.nextExpectedVersion;
          accepted++;
          acceptedBy[w]!++;
          latencies.push(performance.now() - began);
          break;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          conflicts++;
          known = error.actual;
        }
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  const elapsedMs = performance.now() - started;
  const latency = latencySummary(latencies);
  return {
    figures: {
      acceptedPerSec: perSecond(accepted, elapsedMs),
      retriesPerAcceptedRatio: round(conflicts / accepted, 2),
      attemptsPerSec: perSecond(attempts, elapsedMs),
      p50Ms: latency.p50Ms,
      p99Ms: latency.p99Ms,
      // Fairness: how many writers got any append accepted, and the busiest writer's share.
      writersAccepted: acceptedBy.filter((n) => n > 0).length,
      topWriterShareRatio: round(Math.max(...acceptedBy) / accepted, 3),
      abandonedMaxMs: round(abandonedMs.length > 0 ? Math.max(...abandonedMs) : 0, 1),
    },
    details: { accepted, conflicts, attempts, elapsedMs: round(elapsedMs, 1), latency, acceptedByWriter: acceptedBy, abandoned: abandonedMs.length, abandonedMs: abandonedMs.map((ms) => round(ms, 1)) },
  };
}

function nonNegative(name: string, value: unknown): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new Error(`--${name} must be 0 or more, not "${String(value)}"`);
  return number;
}

async function run(o: AppendContendedOptions, context: BenchContext): Promise<RepetitionResult> {
  const figures: Record<string, number> = {};
  const details: Record<string, unknown> = {};

  const scribe = () =>
    withFreshStore(context.brokers, { prefix: 'bench-con', partitions: o.partitions, replicationFactor: o.replicationFactor, writer: true, log: context.log }, async ({ store, name, readyMs }) => {
      context.log(`store ${name}: connected and owning ${store.partitions} partitions in ${readyMs} ms`);
      const streamId = `contended-${randomSuffix()}`;
      // The stream exists and its partition's writer has committed once before the clock starts.
      await store.append(streamId, [{ type: eventType, data: payloadOf(o.eventSize) }], { expectedVersion: 'no_stream' });
      let expectedEvents = 1;
      for (const w of o.writers) {
        const level = await measureLevel(store, streamId, o, w);
        expectedEvents += level.details.accepted;
        for (const [figure, value] of Object.entries(level.figures)) figures[`w${w}.${figure}`] = value;
        details[`w${w}`] = level.details;
        context.log(
          `${w} writers: ${level.figures.acceptedPerSec} accepted/s, ${level.figures.retriesPerAcceptedRatio} retries per accepted append, p50 ${level.figures.p50Ms} ms, p99 ${level.figures.p99Ms} ms; accepted by writer: ${level.details.acceptedByWriter.join(' ')}`,
        );
      }
      // The history is exact: versions 0..n-1, one per accepted append.
      let version = 0;
      for await (const event of store.readStream(streamId)) {
        if (event.version !== version) throw new Error(`${streamId}: version ${event.version} where ${version} was expected`);
        version++;
      }
      if (version !== expectedEvents) throw new Error(`${streamId}: ${version} events, but ${expectedEvents} appends were accepted`);
      details.historyChecked = { streamId, events: version };
    });
  await besideRawReference(
    context,
    referenceOf(o),
    { figures, details },
    scribe,
  );
  for (const w of o.writers) ratiosToRaw(figures, `w${w}`, figures[`w${w}.acceptedPerSec`]!, o.commitEvery);
  return { figures, details };
}

export const appendContended: Scenario<AppendContendedOptions> = {
  name: 'append-contended',
  description: 'one stream, 8 and 32 writers appending with the version they last knew and retrying on conflict; ratio to the raw transactional producer',

  defineOptions(command: Command) {
    defineStoreBenchOptions(command)
      .option('--writers <list>', 'concurrent writers on the one stream, one measurement per value', '8,32')
      .option('--appends <n>', 'accepted appends (one event each) per level', '1000')
      .option('--think-ms <n>', 'before every attempt a writer waits a random 0..N ms, as if deciding (0: it appends at once)', '0');
  },

  parseOptions(raw) {
    return {
      ...parseStoreBenchOptions(raw),
      writers: positiveIntegers('writers', raw.writers),
      appends: positiveInteger('appends', raw.appends),
      thinkMs: nonNegative('think-ms', raw.thinkMs),
    };
  },

  run,

  notes(o) {
    return [
      `One EventStore (writer: true) owning every partition of a fresh store (${o.partitions} partitions, RF ${o.replicationFactor}); one stream, created (version 0) before the clock starts. All writers are in this process, so their appends meet in the stream's partition writer and its group commit: of the appends in one transaction that expect the same version, one is accepted and the others are rejected with the actual version.`,
      `Per level (${o.writers.join(', ')} writers): each writer reads the stream's last version once, then loops: append one ${o.eventSize}-byte event with the version it knows; on WrongExpectedVersionError adopt error.actual and try again. ${o.thinkMs > 0 ? `Before every attempt the writer waits a random 0..${o.thinkMs} ms (--think-ms), as if deciding; that time is in the latency.` : 'No time passes between attempts (--think-ms 0).'} The level ends when ${o.appends} appends were accepted (appends still retrying then are abandoned). Latency: from an append's first attempt to its success. retriesPerAcceptedRatio: conflicts / accepted appends.`,
      'Fairness: writersAccepted = writers with at least one accepted append; topWriterShareRatio = the busiest writer\'s share of the accepted appends; abandonedMaxMs = the longest an append still retrying at the end of the level had been trying (such appends are not in the latency figures). details.w<N>.acceptedByWriter lists each writer\'s count.',
      'After the levels the stream is read back: versions 0..n-1, one per accepted append (details.historyChecked).',
      `Reference, same repetition: raw-produce's transactional measurement (measureRawTransactional), ${o.rawTransactions} transactions of N = ${o.commitEvery.join(', ')} records of ${o.eventSize} bytes round-robin over a fresh ${o.partitions}-partition topic, as raw-produce runs it; Scribe and the reference alternate which runs first per repetition.`,
      'Figures are comparable only within one run (same machine, same broker, same moment); the machine is shared.',
    ];
  },

  summarize(medians, o) {
    const show = medianFormatter(medians);
    const lines: string[] = [];
    for (const w of o.writers) {
      lines.push(
        `  ${String(w).padStart(2)} writers: ${show(`w${w}.acceptedPerSec`, ' accepted/s')}, ${show(`w${w}.retriesPerAcceptedRatio`)} retries per accepted, p50 ${show(`w${w}.p50Ms`, ' ms')}, p99 ${show(`w${w}.p99Ms`, ' ms')}` +
          `; ${show(`w${w}.writersAccepted`)} of ${w} writers got appends accepted (top writer ${show(`w${w}.topWriterShareRatio`)} of them; longest abandoned ${show(`w${w}.abandonedMaxMs`, ' ms')})` +
          `; / raw txn ${o.commitEvery.map((n) => `every ${n}: ${show(`w${w}.overRawTxn${n}Ratio`)}`).join(', ')}`,
      );
    }
    for (const n of o.commitEvery) {
      lines.push(`  raw transactional, commit/${n}: ${show(`raw.txn-every-${n}.recordsPerSec`, ' records/s')} (transaction p50 ${show(`raw.txn-every-${n}.transactionP50Ms`, ' ms')})`);
    }
    return lines;
  },
};
