// The `scribe` command refuses bad arguments and flags before it connects to anything: a
// message naming the flag with its code, exit status 1, within a bound (no broker needed).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { integerFlag, storeFlag } from '../../src/cli/arguments.js';

const run = promisify(execFile);

async function scribe(...args: string[]): Promise<{ code: number; stderr: string; ms: number }> {
  const started = Date.now();
  try {
    const { stderr } = await run('node', ['bin/scribe.js', ...args], { timeout: 20_000, env: { ...process.env, KAFKA_BROKERS: '' } });
    return { code: 0, stderr, ms: Date.now() - started };
  } catch (error) {
    const failed = error as { code: number; stderr: string; killed?: boolean };
    if (failed.killed) throw new Error(`scribe ${args.join(' ')} hung`);
    return { code: failed.code, stderr: failed.stderr, ms: Date.now() - started };
  }
}

describe('the command line refuses bad input before connecting', () => {
  it.each([
    [['partitions', 'grow', '--store', 'bank', '--to', 'abc', '--brokers', '127.0.0.1:9092'], /scribe: --to: "abc" must be an integer from 1 to 10000 \(INVALID_ARGUMENT\)/],
    [['partitions', 'grow', '--store', 'bank', '--to', '1e3', '--brokers', '127.0.0.1:9092'], /scribe: --to: "1e3" must be an integer/],
    [['partitions', 'status', '--store', 'bad name', '--brokers', '127.0.0.1:9092'], /scribe: --store: .* must be 1-200 characters/],
    [['partitions', 'status', '--store', 'bank', '--brokers', '127.0.0.1:99999'], /scribe: --brokers\[0\]: "127.0.0.1:99999": port 99999 is not from 1 to 65535 \(INVALID_ARGUMENT\)/],
    [['partitions', 'status', '--store', 'bank'], /scribe: --brokers: give --brokers host:port,... or set KAFKA_BROKERS/],
    [['kafka', 'start', '--nodes', '2'], /scribe: --nodes: "2" must be one of 1, 3 \(INVALID_ARGUMENT\)/],
    [['kafka', 'status', '--name', '../etc'], /scribe: --name: "..\/etc" must be 1-64 letters/],
    [['kafka', 'node', 'explode', '1'], /scribe: <action>: "explode" must be one of stop, kill, pause, resume, start/],
    [['kafka', 'node', 'kill', 'x'], /scribe: <id>: "x" must be an integer from 1 to 3/],
  ])('scribe %j: exit 1, naming the argument', async (args, message) => {
    const { code, stderr, ms } = await scribe(...args);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(ms).toBeLessThan(10_000);
  });

  it('answers fuzzed --to and --store values with a refusal naming the flag, never a crash or a hang', async () => {
    const value = fc.oneof(fc.string({ maxLength: 30 }).filter((v) => !v.startsWith('-') && !v.includes('\u0000')), fc.constantFrom('', '0', '-1', '10001', '\u202e', 'x'.repeat(5_000)));
    // Only values the flag refuses: a drawn "1" is a valid --to (it would go on and connect).
    const refused = (check: () => unknown) => {
      try {
        check();
        return false;
      } catch {
        return true;
      }
    };
    const invalid = fc
      .tuple(fc.constantFrom('--to', '--store'), value)
      .filter(([flag, v]) => refused(() => (flag === '--to' ? integerFlag(v, '--to', 1, 10_000) : storeFlag(v))));
    await fc.assert(
      fc.asyncProperty(invalid, async ([flag, v]) => {
        const args = flag === '--to' ? ['--store', 'bank', '--to', v] : ['--store', v, '--to', 'x'];
        const { code, stderr } = await scribe('partitions', 'grow', ...args, '--brokers', '127.0.0.1:9092');
        expect(code).toBe(1);
        expect(stderr).toMatch(/^scribe: (--to|--store): .*\(INVALID_ARGUMENT\)\n$/s);
      }),
      { numRuns: 4 },
    );
  });
});
