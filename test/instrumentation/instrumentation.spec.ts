// The store's typed events reach every listener, stamped once, whatever another listener
// does; the `log` option receives the operational ones as one line each. No broker.
import { describe, expect, it, vi } from 'vitest';
import { Instrumentation } from '../../src/instrumentation/instrumentation.js';
import { formatEvent, isLogged, logListener } from '../../src/instrumentation/log-lines.js';
import type { StoreEvent, StoreEventType } from '../../src/instrumentation/store-events.js';
import { validateConnectOptions } from '../../src/store/connect-options.js';

/** One event of every type. */
const samples = {
  'batch-committed': { type: 'batch-committed', partition: 3, appends: 12, events: 14, bytes: 4_096, durationMs: 4.5 },
  'batch-aborted': { type: 'batch-aborted', partition: 3, appends: 12, outcome: 'unknown', reason: 'the commit timed out' },
  'producer-reinitialised': { type: 'producer-reinitialised', partition: 3, reason: 'after an unknown commit outcome' },
  'writer-state-changed': { type: 'writer-state-changed', partition: 3, from: 'recovering', to: 'ready' },
  'ownership-gained': { type: 'ownership-gained', partitions: [1, 2] },
  'ownership-lost': { type: 'ownership-lost', partitions: [2] },
  conflict: { type: 'conflict', streamId: 'acc-1', partition: 3, expected: '4', actual: 6 },
  'append-settled': { type: 'append-settled', streamId: 'acc-1', partition: 3, owner: 'remote', outcome: 'ok', events: 2, durationMs: 3.2 },
  'index-caught-up': { type: 'index-caught-up', partition: 3, offset: 1_200, behind: 0 },
  'subscription-lag': { type: 'subscription-lag', group: 'bank.events.subscription.balances', partition: 3, events: 40, seconds: 1.5 },
  notice: { type: 'notice', message: 'index .scribe/bank: reused, catching up from its checkpoints' },
  'request-answered': { type: 'request-answered', partition: 3, kind: 'append', outcome: 'WRONG_EXPECTED_VERSION', durationMs: 7.25 },
  'request-served': { type: 'request-served', partition: 3, kind: 'command', streamId: 'acc-1', outcome: 'ok', offset: '991', durationMs: 5.5, trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
  'kafka-statistics': {
    type: 'kafka-statistics',
    client: 'scribe-bank-consumer',
    role: 'consumer',
    queuedMessages: 17,
    queuedBytes: 4_352,
    brokers: [{ broker: '127.0.0.1:9092', rttAvgSeconds: 0.0012, rttP99Seconds: 0.004, requestsQueued: 1, requestsInFlight: 2 }],
    consumerLag: 250,
  },
} satisfies { [Type in StoreEventType]: Extract<StoreEvent, { type: Type }> };

describe('the instrumentation fan-out', () => {
  it('hands every event to every listener in order, stamped with one time', () => {
    const instrumentation = new Instrumentation();
    expect(instrumentation.active).toBe(false);
    const seen: [string, StoreEvent & { time: number }][] = [];
    instrumentation.observe((event) => seen.push(['a', event]));
    instrumentation.observe((event) => seen.push(['b', event]));
    const before = Date.now();
    instrumentation.emit(samples.conflict);
    expect(seen.map(([who]) => who)).toEqual(['a', 'b']);
    expect(seen[0]![1]).toEqual({ ...samples.conflict, time: seen[0]![1].time });
    expect(seen[0]![1].time).toBeGreaterThanOrEqual(before);
    expect(seen[1]![1]).toBe(seen[0]![1]);
  });

  it('isolates a listener that throws: the others still run, the emitter never fails, a warning is given once', () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const instrumentation = new Instrumentation([
        () => {
          throw new Error('listener bug');
        },
      ]);
      const seen: string[] = [];
      instrumentation.observe((event) => seen.push(event.type));
      expect(() => instrumentation.emit(samples.notice)).not.toThrow();
      expect(() => instrumentation.emit(samples.conflict)).not.toThrow();
      expect(seen).toEqual(['notice', 'conflict']);
      expect(warning).toHaveBeenCalledTimes(1);
      expect(String(warning.mock.calls[0]![0])).toMatch(/listener bug/);
    } finally {
      warning.mockRestore();
    }
  });

  it('stops calling a listener once its observe() is undone', () => {
    const instrumentation = new Instrumentation();
    const seen: string[] = [];
    const stop = instrumentation.observe((event) => seen.push(event.type));
    instrumentation.emit(samples.notice);
    stop();
    instrumentation.emit(samples.notice);
    expect(seen).toEqual(['notice']);
    expect(instrumentation.active).toBe(false);
  });
});

describe('the log lines', () => {
  it.each(Object.values(samples))('formats $type as one line', (event) => {
    const line = formatEvent(event);
    expect(line.length).toBeGreaterThan(0);
    expect(line).not.toContain('\n');
    for (const value of Object.values(event).filter((v) => typeof v === 'number' || (typeof v === 'string' && v !== event.type))) {
      // Every figure and name the event carries is in its line (the outcome of an abort in words).
      if (event.type === 'batch-aborted' && value === 'unknown') continue;
      expect(line).toContain(String(value));
    }
  });

  it('keeps a notice as its message, and logs the operational events only', () => {
    expect(formatEvent(samples.notice)).toBe(samples.notice.message);
    const lines: string[] = [];
    const log = logListener((line) => lines.push(line));
    for (const event of Object.values(samples)) log({ ...event, time: 0 });
    const logged = Object.values(samples).filter((event) => isLogged(event)).map((event) => event.type);
    expect(logged).toEqual(['batch-aborted', 'producer-reinitialised', 'writer-state-changed', 'ownership-gained', 'ownership-lost', 'notice']);
    expect(lines).toHaveLength(logged.length);
    expect(isLogged({ type: 'writer-state-changed', partition: 1, from: 'ready', to: 'committing' })).toBe(false);
    expect(isLogged({ type: 'writer-state-changed', partition: 1, from: 'committing', to: 'fenced' })).toBe(true);
  });
});

describe('the on connect option', () => {
  const base = { brokers: ['127.0.0.1:9092'], store: 'bank', dataDir: '.scribe/test/instrumentation-options' };
  it('takes a listener or a list of listeners', () => {
    const listener = () => undefined;
    expect(validateConnectOptions({ ...base, on: listener }).listeners).toEqual([listener]);
    expect(validateConnectOptions({ ...base, on: [listener, listener] }).listeners).toHaveLength(2);
    expect(validateConnectOptions(base).listeners).toEqual([]);
  });

  it('refuses anything else, naming the entry at fault', () => {
    expect(() => validateConnectOptions({ ...base, on: 'console' })).toThrow(/^on: must be a function or an array of functions/);
    expect(() => validateConnectOptions({ ...base, on: [() => undefined, 42] })).toThrow(/^on\[1\]: must be a function, got the number 42/);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => validateConnectOptions({ ...base, on: [, () => undefined] })).toThrow(/^on\[0\]: must be a function, got undefined/);
  });
});
