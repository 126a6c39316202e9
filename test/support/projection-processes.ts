// Starts and drives projection runner processes (test/support/projection-process.ts) from a test.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunnerCommand, RunnerReport, RunnerSettings } from './projection-process.js';

const script = fileURLToPath(new URL('./projection-process.ts', import.meta.url));

export class RunnerProcess {
  readonly reports: RunnerReport[] = [];
  private readonly listeners = new Set<(report: RunnerReport) => void>();
  private ref = 0;
  readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (report: RunnerReport) => {
      this.reports.push(report);
      if (process.env.SCRIBE_TEST_DEBUG && report.type !== 'partitions') process.stderr.write(`[runner ${child.pid}] ${JSON.stringify(report).slice(0, 300)}\n`);
      for (const listener of this.listeners) listener(report);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(settings: RunnerSettings): Promise<RunnerProcess> {
    const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const runner = new RunnerProcess(child);
    await runner.request({ cmd: 'start', settings }, (r) => r.type === 'started');
    return runner;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(command: RunnerCommand): void {
    this.child.send(command);
  }

  /** Resolves with the first report that `matches`; rejects on an error report or after `timeoutMs`. */
  next(matches: (report: RunnerReport) => boolean, timeoutMs = 120_000): Promise<RunnerReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`runner ${this.pid}: no matching report within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (report: RunnerReport) => {
        if (report.type === 'error' || matches(report)) {
          clearTimeout(timer);
          this.listeners.delete(listener);
          if (report.type === 'error') reject(new Error(`runner ${this.pid}: ${report.message}`));
          else resolve(report);
        }
      };
      this.listeners.add(listener);
      void this.exited.then(() => {
        if (!this.listeners.has(listener)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        reject(new Error(`runner ${this.pid} exited (${this.child.exitCode ?? this.child.signalCode}) before the report it waited for`));
      });
    });
  }

  request(command: RunnerCommand, matches: (report: RunnerReport) => boolean, timeoutMs = 120_000): Promise<RunnerReport> {
    const answer = this.next(matches, timeoutMs);
    this.child.send(command);
    return answer;
  }

  async partitions(): Promise<number[]> {
    const ref = ++this.ref;
    return ((await this.request({ cmd: 'partitions', ref }, (r) => r.type === 'partitions' && r.ref === ref)) as Extract<RunnerReport, { type: 'partitions' }>).partitions;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.send({ cmd: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
