// footprint: what one writer process costs the machine and the brokers as the partitions it
// owns grow (issue 16): its OS threads and its TCP connections to the brokers, with every
// partition's writer active (a short load has run on all of them), at 12, 48 and 192 partitions.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Command } from 'commander';
import { positiveInteger, positiveIntegers, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { benchDataDir, deleteStoreTopics, randomSuffix } from '../store-fixture.js';
import { BenchWriter } from '../writer-processes.js';

export interface FootprintOptions {
  readonly partitions: number[];
  readonly loadS: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The process's OS threads (/proc/<pid>/status). */
function threadsOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Threads:'));
  return Number(line?.split(/\s+/)[1]);
}

/** The process's established TCP connections to these ports (its socket inodes matched in /proc/<pid>/net/tcp). */
function connectionsOf(pid: number, ports: ReadonlySet<number>): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    let rows: string[];
    try {
      rows = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of rows) {
      const cols = row.trim().split(/\s+/);
      const remotePort = parseInt(cols[2]!.split(':')[1]!, 16);
      // 01: ESTABLISHED
      if (cols[3] === '01' && ports.has(remotePort) && inodes.has(cols[9]!)) count++;
    }
  }
  return count;
}

export const footprint: Scenario<FootprintOptions> = {
  name: 'footprint',
  description: "One writer process's OS threads and broker connections while it owns 12, 48 and 192 partitions, every writer active.",
  defineOptions(command: Command) {
    command.option('--partitions <list>', 'partition counts to measure, comma-separated', '12,48,192');
    command.option('--load-s <n>', 'seconds of load on every partition before counting', '3');
  },
  parseOptions(raw) {
    return { partitions: positiveIntegers('partitions', raw.partitions), loadS: positiveInteger('load-s', raw.loadS) };
  },
  async run(options, context: BenchContext): Promise<RepetitionResult> {
    const figures: Record<string, number> = {};
    const ports = new Set(context.brokers.map((b) => Number(b.split(':').at(-1))));
    for (const partitions of options.partitions) {
      const store = `footprint-${partitions}-${randomSuffix()}`;
      const writer = await BenchWriter.start(`footprint-${partitions}`, { brokers: context.brokers, store, partitions, dataDir: benchDataDir(), clientId: `bench-${store}` });
      try {
        const deadline = Date.now() + 120_000;
        while ((await writer.owned()).length < partitions) {
          if (Date.now() > deadline) throw new Error(`the writer owned fewer than ${partitions} partitions after 120 s`);
          await sleep(200);
        }
        // Every partition's writer writes: with per-partition producers, each has connected.
        await writer.drive('owned', Math.min(256, partitions * 2), partitions * 4, 100, 60_000);
        await sleep(options.loadS * 1000);
        await writer.halt();
        figures[`p${partitions}.threads`] = threadsOf(writer.pid);
        figures[`p${partitions}.brokerConnections`] = connectionsOf(writer.pid, ports);
        context.log(`${partitions} partitions: ${figures[`p${partitions}.threads`]} threads, ${figures[`p${partitions}.brokerConnections`]} broker connections`);
      } finally {
        await writer.close();
        await deleteStoreTopics(context.brokers, store);
      }
    }
    return { figures };
  },
  notes: () => ['Threads from /proc/<pid>/status; connections: the process\'s ESTABLISHED TCP sockets to the broker ports (/proc/<pid>/net/tcp).'],
};
