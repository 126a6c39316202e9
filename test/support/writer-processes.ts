// Starts and drives writer processes (test/support/writer-process.ts) from a test, through the
// process harness the benchmarks' writer processes share.
import { fileURLToPath } from 'node:url';
import type { ConnectOptions } from '../../src/index.js';
import { ProcessHarness } from './process-harness.js';
import type { Command, Report } from './writer-process.js';

const script = fileURLToPath(new URL('./writer-process.ts', import.meta.url));

export class WriterProcess {
  private ref = 0;
  readonly exited: Promise<number | null>;

  private constructor(private readonly harness: ProcessHarness<Command, Report>) {
    this.exited = harness.exited;
  }

  static async start(options: ConnectOptions): Promise<WriterProcess> {
    const harness = ProcessHarness.fork<Command, Report>({ label: 'writer', script, execArgv: ['--import', 'tsx'], keepReports: true });
    const writer = new WriterProcess(harness);
    await writer.request({ cmd: 'connect', options }, (r) => r.type === 'connected');
    return writer;
  }

  /** Every report so far, in arrival order. */
  get reports(): Report[] {
    return this.harness.reports;
  }

  get pid(): number {
    return this.harness.pid;
  }

  send(command: Command): void {
    this.harness.send(command);
  }

  /** Sends the command and resolves with the first report that `matches` (or rejects on an error report). */
  request(command: Command, matches: (report: Report) => boolean, timeoutMs = 120_000): Promise<Report> {
    return this.harness.request(command, matches, timeoutMs);
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
    await this.harness.close({ cmd: 'close' }, 30_000);
  }

  kill(signal: NodeJS.Signals): void {
    this.harness.kill(signal);
  }
}
