// Runs `node bin/scribe.js ...` against the tests' broker, as an operator would: to the end,
// or (for live commands) in the background until a line appears on its stderr.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function scribe(brokers: readonly string[], ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run('node', ['bin/scribe.js', ...args, '--brokers', brokers.join(',')], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves when stdout or stderr holds `text` (rejects after `timeoutMs`, or when the process ends without it). */
  printed(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** The exit code once the process has ended. */
  readonly exited: Promise<number>;
}

export function startScribe(brokers: readonly string[], ...args: string[]): RunningCli {
  const child = spawn('node', ['bin/scribe.js', ...args, '--brokers', brokers.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 0))));
  const holds = (text: string | RegExp) => (typeof text === 'string' ? stdout.includes(text) || stderr.includes(text) : text.test(stdout) || text.test(stderr));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async printed(text, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let ended = false;
      void exited.then(() => (ended = true));
      while (!holds(text)) {
        if (ended || Date.now() > deadline) throw new Error(`scribe ${args.join(' ')} did not print ${String(text)}${ended ? ' before it ended' : ''}; stdout: ${stdout}; stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
