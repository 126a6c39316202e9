// A child process driven over IPC, for the writer processes of the tests (run under tsx) and
// of the benchmarks (run compiled): the parent sends commands and waits for the first report
// that answers each, within a timeout; the child serves commands one handler each and reports
// any failure as an `error` report.
import { fork, type ChildProcess } from 'node:child_process';

/** What every child reports when a command fails. */
export interface ErrorReport {
  readonly type: 'error';
  readonly message: string;
}

export interface HarnessOptions {
  /** Names the process in errors. */
  readonly label: string;
  /** The child's module: a .ts file under tsx, or a compiled .js file. */
  readonly script: string;
  /** Node options of the child: `['--import', 'tsx']` for a .ts script. */
  readonly execArgv?: readonly string[];
  /** Keep every report in `reports` (a test reads them afterwards); the benchmarks do not. */
  readonly keepReports?: boolean;
  /** A pending request fails as soon as the child exits (rather than at its timeout). */
  readonly failOnExit?: boolean;
}

export class ProcessHarness<Command extends { readonly cmd: string }, Report extends { readonly type: string }> {
  readonly reports: Report[] = [];
  readonly exited: Promise<number | null>;
  private readonly listeners = new Set<(report: Report | ErrorReport) => void>();

  private constructor(
    readonly child: ChildProcess,
    private readonly options: HarnessOptions,
  ) {
    child.on('message', (report: Report | ErrorReport) => {
      if (options.keepReports && report.type !== 'error') this.reports.push(report as Report);
      for (const listener of this.listeners) listener(report);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static fork<Command extends { readonly cmd: string }, Report extends { readonly type: string }>(options: HarnessOptions): ProcessHarness<Command, Report> {
    const child = fork(options.script, [], { execArgv: [...(options.execArgv ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new ProcessHarness<Command, Report>(child, options);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(command: Command): void {
    this.child.send(command);
  }

  /** Sends the command and resolves with the first report that `matches` (or rejects on an error report). */
  request<R extends Report>(command: Command, matches: (report: Report) => report is R, timeoutMs?: number): Promise<R>;
  request(command: Command, matches: (report: Report) => boolean, timeoutMs?: number): Promise<Report>;
  request(command: Command, matches: (report: Report) => boolean, timeoutMs = 120_000): Promise<Report> {
    const { label } = this.options;
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        settle();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${label} (pid ${this.pid}): no answer to ${command.cmd} within ${timeoutMs} ms`))), timeoutMs);
      const listener = (report: Report | ErrorReport) => {
        if (report.type === 'error') finish(() => reject(new Error(`${label} (pid ${this.pid}): ${(report as ErrorReport).message}`)));
        else if (matches(report as Report)) finish(() => resolve(report as Report));
      };
      this.listeners.add(listener);
      if (this.options.failOnExit) void this.exited.then((code) => finish(() => reject(new Error(`${label} (pid ${this.pid}) exited (${String(code)}) before answering ${command.cmd}`))));
      this.child.send(command);
    });
  }

  /** Sends the command that makes the child exit, and kills it if it has not within `timeoutMs`. */
  async close(command: Command, timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.child.send(command);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/**
 * The child's side: runs each command through `handle` (commands run concurrently, as they
 * arrive) and reports a failure as an `error` report. The child exits when its parent goes.
 */
export function serveCommands<Command>(handle: (command: Command) => Promise<void>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (command: Command) => {
    handle(command).catch((error: unknown) => {
      process.send?.({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ErrorReport);
    });
  });
}
