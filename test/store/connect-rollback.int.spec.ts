// A connect that fails at any of its steps stops everything it started: no Kafka client (and
// so none of librdkafka's threads), no timer, no index lock is left behind, and the process
// exits on its own. Each step is made to fail in turn, in a process of its own.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { connectSteps, type ConnectStep } from '../../src/store/composition.js';
import type { FailingConnect, LeftBehind } from '../support/failing-connect.js';

const brokers = inject('brokers');
const script = fileURLToPath(new URL('../support/failing-connect.ts', import.meta.url));

/** Long enough for librdkafka to wind down on a busy machine; a leaked client or timer keeps a process alive indefinitely. */
const exitWithinMs = 5_000;

async function failAfter(step: ConnectStep): Promise<{ report: LeftBehind; exitedAfterMs: number; code: number | null }> {
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const name = `rollback-${step}-${randomUUID().slice(0, 8)}`;
  const report = await new Promise<LeftBehind>((resolve, reject) => {
    child.once('message', (message: LeftBehind) => resolve(message));
    void exited.then((code) => reject(new Error(`exited (${String(code)}) before reporting`)));
    child.send({ brokers, store: name, dataDir: `.scribe/test/${name}`, failAfter: step } satisfies FailingConnect);
  });
  const reported = Date.now();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(timer);
  return { report, exitedAfterMs: Date.now() - reported, code };
}

describe('connect rolls back what it started', () => {
  it.each(connectSteps)('a failure after step %s leaves no client, timer or lock, and the process exits by itself', async (step) => {
    const { report, exitedAfterMs, code } = await failAfter(step);
    expect(report.error).toBe(`Error: injected failure after step ${step}`);
    expect(report.threadsAfter).toBeLessThanOrEqual(report.threadsBefore);
    expect(report.resources.filter((resource) => resource === 'Timeout')).toEqual([]);
    expect(report.indexFree).toBe(true);
    expect(code).toBe(0);
    expect(exitedAfterMs).toBeLessThan(exitWithinMs);
  });
});
