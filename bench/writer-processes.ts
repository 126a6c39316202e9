// Starts benchmark writer processes (bench/writer-process.ts) and talks to them over IPC:
// one request, one matching report, with a timeout.
import { fileURLToPath } from 'node:url';
import type { ConnectOptions } from '../src/index.js';
import { ProcessHarness } from '../test/support/process-harness.js';
import type { LoadTarget, WindowReport, WriterCommand, WriterReport } from './writer-process.js';

// Next to this module in dist/bench/: the benchmark runs compiled, so the child needs no loader.
const script = fileURLToPath(new URL('./writer-process.js', import.meta.url));

type Reported<T extends WriterReport['type']> = Extract<WriterReport, { type: T }>;

export class BenchWriter {
  private ref = 0;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly label: string,
    private readonly harness: ProcessHarness<WriterCommand, WriterReport>,
  ) {
    this.exited = harness.exited;
  }

  /** Forks the process and connects its store (it joins the writer group as it connects). */
  static async start(label: string, options: ConnectOptions): Promise<BenchWriter> {
    const writer = new BenchWriter(label, ProcessHarness.fork({ label, script, failOnExit: true }));
    try {
      await writer.request({ cmd: 'connect', options }, 'connected');
    } catch (error) {
      writer.harness.kill('SIGKILL');
      throw error;
    }
    return writer;
  }

  get pid(): number {
    return this.harness.pid;
  }

  async owned(): Promise<number[]> {
    const ref = ++this.ref;
    return (await this.request({ cmd: 'owned', ref }, 'owned', ref)).owned;
  }

  /** (Re)starts the process's load on the partitions it targets now; resolves once every one has taken an append. */
  async drive(target: LoadTarget, workers: number, streams: number, eventSize: number, timeoutMs: number): Promise<Reported<'driving'>> {
    const ref = ++this.ref;
    return this.request({ cmd: 'drive', ref, target, workers, streams, eventSize }, 'driving', ref, timeoutMs);
  }

  /** Stops the process's load; resolves when its appends in flight have settled. */
  async halt(): Promise<void> {
    const ref = ++this.ref;
    await this.request({ cmd: 'halt', ref }, 'halted', ref);
  }

  /** The process's CPU time so far (user + system, µs). */
  async sample(): Promise<Reported<'sample'>> {
    const ref = ++this.ref;
    return this.request({ cmd: 'sample', ref }, 'sample', ref);
  }

  /** The load's acknowledged appends and failures between two instants (epoch ms); `withEnds`: each one's end, per partition. */
  async window(from: number, to: number, withEnds = false): Promise<WindowReport> {
    const ref = ++this.ref;
    return (await this.request({ cmd: 'window', ref, from, to, withEnds }, 'window', ref)).report;
  }

  /** Sends the process a signal (SIGKILL, SIGSTOP, SIGCONT): takeover and fault scenarios. */
  kill(signal: NodeJS.Signals): void {
    this.harness.kill(signal);
  }

  /** Stops the load, closes the store (leaving the writer group: a rebalance), and waits for the exit. */
  async close(timeoutMs = 60_000): Promise<void> {
    await this.harness.close({ cmd: 'close' }, timeoutMs);
  }

  private request<T extends WriterReport['type']>(command: WriterCommand, type: T, ref?: number, timeoutMs = 120_000): Promise<Reported<T>> {
    return this.harness.request(command, (report): report is Reported<T> => report.type === type && (ref === undefined || (report as { ref?: number }).ref === ref), timeoutMs);
  }
}
