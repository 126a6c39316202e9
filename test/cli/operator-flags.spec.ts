// The operator's commands refuse bad arguments and flags before they connect: one line naming
// the flag with its code, exit status 1 (the brokers named here do not exist: a command that
// tried to connect would fail differently, and later).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { expectedVersionFlag } from '../../src/cli/append-command.js';

const run = promisify(execFile);

async function scribe(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run('node', ['bin/scribe.js', ...args, '--brokers', '127.0.0.1:9'], { timeout: 20_000 });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe("the operator's commands refuse bad input before connecting", () => {
  it.each([
    [['streams', 'read', '', '--store', 'bank'], 'scribe: <stream>: must not be empty (INVALID_ARGUMENT)'],
    [['streams', 'read', 'a', '--store', 'bank', '--from', '-1'], 'scribe: --from: "-1" must be an integer from 0 to 9007199254740991 (INVALID_ARGUMENT)'],
    [['streams', 'read', 'a', '--store', 'bank', '--max', 'all'], 'scribe: --max: "all" must be an integer from 1 to 1000000000 (INVALID_ARGUMENT)'],
    [['streams', 'tail', '--store', 'bank', '--prefix', ''], 'scribe: --prefix: must not be empty (leave it out to tail every stream) (INVALID_ARGUMENT)'],
    [['streams', 'append', 'a', '--store', 'bank', '--type', 'T', '--data', 'nope'], /^scribe: --data: is not JSON: .* \(INVALID_ARGUMENT\)$/],
    [['streams', 'append', 'a', '--store', 'bank', '--type', 'T', '--data', '{}', '--metadata', '[1]'], 'scribe: --metadata: must be a JSON object (INVALID_ARGUMENT)'],
    [['streams', 'append', 'a', '--store', 'bank', '--type', 'T', '--data', '{}', '--expected-version', '-2'], /^scribe: --expected-version: "-2" must be a version/],
    [['store', 'describe', 'bad name'], /^scribe: <store>: .* \(INVALID_ARGUMENT\)$/],
    [['snapshots', 'show', '', '--store', 'bank'], 'scribe: <stream>: must not be empty (INVALID_ARGUMENT)'],
    [['ui', '--store', 'bank', '--port', '70000'], 'scribe: --port: "70000" must be an integer from 0 to 65535 (INVALID_ARGUMENT)'],
    [['ui', '--store', 'bank', '--host', 'a b'], 'scribe: --host: "a b" must be an IP address or host name (INVALID_ARGUMENT)'],
  ])('scribe %j', async (args, expected) => {
    const { code, stderr } = await scribe(...args);
    expect(code).toBe(1);
    const line = stderr.trimEnd();
    expect(line.split('\n')).toHaveLength(1);
    if (typeof expected === 'string') expect(line).toBe(expected);
    else expect(line).toMatch(expected);
  });

  it('reads --expected-version as a version or one of the named states', () => {
    expect(expectedVersionFlag(undefined)).toBe('any');
    expect(expectedVersionFlag('7')).toBe(7);
    expect(expectedVersionFlag('no_stream')).toBe('no_stream');
    expect(expectedVersionFlag('stream_exists')).toBe('stream_exists');
    expect(() => expectedVersionFlag('latest')).toThrow(/--expected-version: "latest" must be a version \(0, 1, \.\.\.\) or one of no_stream, stream_exists, any/);
  });
});
