// The worker processes of a chaos run: started (forked) with their output in files, signalled,
// replaced, and at the end asked to close; one that does not exit in time is killed as wedged.
import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessEnd } from './availability.js';
import type { WorkerConfig } from './worker.js';

const here = import.meta.url;
const script = fileURLToPath(new URL(here.endsWith('.ts') ? './worker.ts' : './worker.js', here));

export interface Worker {
  readonly name: string;
  readonly role: 'writer' | 'client';
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  end?: ProcessEnd;
  paused: boolean;
}

export class Workers {
  readonly all: Worker[] = [];
  private counts = { writer: 0, client: 0 };

  constructor(private readonly base: Omit<WorkerConfig, 'process' | 'role' | 'subscribe'>) {}

  live(role?: 'writer' | 'client'): Worker[] {
    return this.all.filter((w) => w.end === undefined && (role === undefined || w.role === role));
  }

  /** Starts a new worker and resolves once its store is connected (or rejects if it exits first). */
  async start(role: 'writer' | 'client', readyTimeoutMs = 120_000): Promise<Worker> {
    const name = `${role === 'writer' ? 'w' : 'c'}${++this.counts[role]}`;
    const config: WorkerConfig = { ...this.base, process: name, role, subscribe: role === 'client' };
    const log = openSync(join(this.base.out, `${name}.log`), 'a');
    const child = fork(script, [JSON.stringify(config)], { execArgv: script.endsWith('.ts') ? ['--import', 'tsx'] : [], stdio: ['ignore', log, log, 'ipc'] });
    const worker: Worker = {
      name,
      role,
      child,
      paused: false,
      exited: new Promise((resolve) =>
        child.once('exit', (code) => {
          worker.end ??= { process: name, end: 'exited', endT: Date.now(), exitCode: code };
          resolve();
        }),
      ),
    };
    this.all.push(worker);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not connect within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      void worker.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it connected (see ${name}.log)`));
      });
    });
    return worker;
  }

  async kill(worker: Worker): Promise<void> {
    worker.end = { process: worker.name, end: 'killed', endT: Date.now() };
    worker.child.kill('SIGKILL');
    await worker.exited;
  }

  pause(worker: Worker): void {
    worker.paused = true;
    worker.child.kill('SIGSTOP');
  }

  resume(worker: Worker): void {
    worker.paused = false;
    worker.child.kill('SIGCONT');
  }

  /** Asks every live worker to close; kills (and marks wedged) those not gone within the bound. */
  async stopAll(boundMs: number): Promise<void> {
    const live = this.live();
    for (const w of live) {
      if (w.paused) this.resume(w);
      w.child.send({ cmd: 'stop' });
    }
    await Promise.all(
      live.map(async (w) => {
        let timer: NodeJS.Timeout | undefined;
        const gone = await Promise.race([w.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), boundMs)))]);
        clearTimeout(timer);
        if (!gone) {
          w.end = { process: w.name, end: 'wedged', endT: Date.now() };
          w.child.kill('SIGKILL');
          await w.exited;
        }
      }),
    );
  }

  /** Last resort when the run fails: no process of ours is left behind. */
  killAll(): void {
    for (const w of this.live()) {
      w.end = { process: w.name, end: 'killed', endT: Date.now() };
      w.child.kill('SIGKILL');
    }
  }

  ends(): ProcessEnd[] {
    return this.all.flatMap((w) => (w.end ? [w.end] : []));
  }
}
