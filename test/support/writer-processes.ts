// Starts and drives writer processes (test/support/writer-process.ts) from a test.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectOptions } from '../../src/index.js';
import type { Command, Report } from './writer-process.js';

const script = fileURLToPath(new URL('./writer-process.ts', import.meta.url));

export class WriterProcess {
  readonly reports: Report[] = [];
  private readonly listeners = new Set<(report: Report) => void>();
  private ref = 0;
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (report: Report) => {
      this.reports.push(report);
      for (const listener of this.listeners) listener(report);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(options: ConnectOptions): Promise<WriterProcess> {
    const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const writer = new WriterProcess(child);
    await writer.request({ cmd: 'connect', options }, (r) => r.type === 'connected');
    return writer;
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(command: Command): void {
    this.child.send(command);
  }

  /** Sends the command and resolves with the first report that `matches` (or rejects on an error report). */
  request(command: Command, matches: (report: Report) => boolean, timeoutMs = 120_000): Promise<Report> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`writer ${this.pid}: no answer to ${command.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (report: Report) => {
        if (report.type === 'error') {
          clearTimeout(timer);
          this.listeners.delete(listener);
          reject(new Error(`writer ${this.pid}: ${report.message}`));
        } else if (matches(report)) {
          clearTimeout(timer);
          this.listeners.delete(listener);
          resolve(report);
        }
      };
      this.listeners.add(listener);
      this.child.send(command);
    });
  }

  async append(streamId: string, ids: string[], expectedVersion: number | 'any' | 'no_stream' | 'stream_exists', timeoutMs?: number): Promise<Extract<Report, { type: 'appended' }>> {
    const ref = ++this.ref;
    return (await this.request({ cmd: 'append', ref, streamId, ids, expectedVersion }, (r) => r.type === 'appended' && r.ref === ref, timeoutMs)) as Extract<Report, { type: 'appended' }>;
  }

  async owned(): Promise<number[]> {
    const ref = ++this.ref;
    return ((await this.request({ cmd: 'owned', ref }, (r) => r.type === 'owned' && r.ref === ref)) as Extract<Report, { type: 'owned' }>).owned;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.send({ cmd: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
