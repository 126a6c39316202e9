// The comparison harness (`npm run bench -- compare`) run once in smoke mode against the test
// broker and the PostgreSQL server of the machine, so that it cannot rot: it must finish, its
// self-checks must pass, and every system must have a figure for every workload. The figures
// themselves are not looked at: a benchmark is not a test (issue 7, point 6).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { defaultPostgresUrl, postgresFacts } from '../../bench/compare/postgres.js';
import type { SelfCheckSummary } from '../../bench/compare/self-check.js';
import { packageRoot } from '../../src/local-kafka/home.js';

const brokers = inject('brokers');
const run = promisify(execFile);

interface ResultFile {
  readonly repetitions: { readonly figures: Record<string, number>; readonly details: { readonly selfChecks: SelfCheckSummary[] } }[];
  readonly discardedWarmUps: unknown[];
  readonly versions: Record<string, string>;
}

/** Every figure a smoke run must produce: each system's throughput per workload case. */
const expectedFigures = [
  ...[4, 16, 64].flatMap((w) => ['scribe', 'raw-idempotent', 'emmett'].flatMap((v) => ['eventsPerSec', 'p50Ms', 'p95Ms', 'p99Ms'].map((m) => `concurrent-writers.w${w}.${v}.${m}`))),
  ...[100, 1000].map((n) => `concurrent-writers.txn.raw-txn-${n}.eventsPerSec`),
  ...[8, 32].flatMap((w) => ['scribe-execute', 'scribe-handle', 'emmett-handler'].flatMap((v) => ['commandsPerSec', 'p50Ms', 'p99Ms', 'retriesPerCommandRatio'].map((m) => `hot-stream.w${w}.${v}.${m}`))),
  ...['scribe', 'emmett'].map((v) => `read-stream.read-100.${v}.eventsPerSec`),
  ...['scribe-snapshot', 'emmett-fold'].map((v) => `read-stream.load-1000.${v}.loadsPerSec`),
  ...['scribe-subscribe', 'raw-consumer', 'emmett-puller', 'emmett-consumer'].map((v) => `catch-up.from-start.${v}.eventsPerSec`),
];

describe('npm run bench -- compare --smoke', () => {
  const chartDir = mkdtempSync(join(tmpdir(), 'scribe-compare-'));
  afterAll(() => rmSync(chartDir, { recursive: true, force: true }));

  it('measures every system in every workload, and its self-checks pass', { timeout: 90_000 }, async () => {
    // Fails with a message naming the server when PostgreSQL is not there.
    await postgresFacts(defaultPostgresUrl);

    const harness = await run(
      process.execPath,
      ['--import', 'tsx', 'bench/main.ts', 'compare', '--smoke', '--repeat', '1', '--warmup', '0', '--chart-dir', chartDir],
      { cwd: packageRoot(), env: { ...process.env, KAFKA_BROKERS: brokers.join(',') }, timeout: 80_000, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`the harness failed: ${error.message}\n${error.stderr?.slice(-4000) ?? ''}`);
    });

    const file = /^result: (.+)$/m.exec(harness.stdout)?.[1];
    expect(file, harness.stdout).toBeDefined();
    const result = JSON.parse(readFileSync(join(packageRoot(), file!), 'utf8')) as ResultFile;
    rmSync(join(packageRoot(), file!), { force: true });

    expect(result.repetitions).toHaveLength(1);
    expect(result.discardedWarmUps).toHaveLength(0);
    const [repetition] = result.repetitions;
    for (const system of ['scribe', 'emmett']) {
      for (const workload of ['concurrent-writers', 'hot-stream', 'read-stream', 'catch-up']) {
        const check = repetition!.details.selfChecks.find((c) => c.system === system && c.workload === workload);
        expect(check?.events, `${system} ${workload} self-check`).toBeGreaterThan(0);
      }
    }
    const missing = expectedFigures.filter((name) => {
      const value = repetition!.figures[name];
      return value === undefined || !Number.isFinite(value) || (!name.endsWith('Ratio') && !(value > 0));
    });
    expect(missing).toEqual([]);
    expect(result.versions).toHaveProperty('@event-driven-io/emmett-postgresql');
    expect(result.versions).toHaveProperty('postgresql');

    const stem = file!.replace(/^.*\//, '').replace(/\.json$/, '');
    expect(existsSync(join(chartDir, `${stem}.svg`))).toBe(true);
    expect(readFileSync(join(chartDir, `${stem}.md`), 'utf8')).toContain('| target | verdict |');
  });
});
