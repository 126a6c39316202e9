// Processes and CPU time as /proc shows them, for the benchmarks and the tests: the machine's
// CPU time, a process's (the broker's JVM, a writer), its state (stopped by SIGSTOP?), and
// the local broker's nodes, so that a scenario can say where the cores went during a window.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LocalKafkaCluster } from '../../src/local-kafka/index.js';

/** Clock ticks per second of /proc's counters: USER_HZ, 100 on every Linux this runs on. */
const ticksPerSecond = 100;

export interface MachineCpu {
  /** CPU seconds spent busy (everything but idle and iowait), summed over all cores. */
  readonly busyS: number;
  /** CPU seconds in all states, summed over all cores. */
  readonly totalS: number;
}

/** The machine's counters from the first line of /proc/stat; zeros where /proc is missing. */
export function machineCpu(): MachineCpu {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busyS: (total - idle) / ticksPerSecond, totalS: total / ticksPerSecond };
  } catch {
    return { busyS: 0, totalS: 0 };
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name (field 3, the state, first), or
 * undefined when the process is gone. The name (field 2) may contain spaces and parentheses:
 * count from its last closing parenthesis.
 */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used, or undefined when it is gone or unreadable. */
export function processCpuS(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields === undefined ? undefined : (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** A process's state letter (R running, S sleeping, T stopped, Z zombie, ...), or undefined when it is gone. */
export function processState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/**
 * The pids of the local cluster's broker nodes that serve these brokers (a cluster started by
 * `src/local-kafka` for this checkout, `bench` or `default`); empty for an external broker.
 */
export function localBrokerPids(brokers: readonly string[]): number[] {
  for (const name of ['bench', 'default']) {
    const cluster = LocalKafkaCluster.find(name);
    if (!cluster || !cluster.brokers.some((broker) => brokers.includes(broker))) continue;
    return cluster.nodeIds.map((id) => cluster.pid(id)).filter((pid): pid is number => pid !== undefined);
  }
  return [];
}

/** A point to measure CPU use from: this process's usage, the machine's, and the local broker's nodes'. */
export interface CpuSample {
  readonly at: number;
  readonly process: NodeJS.CpuUsage;
  readonly machine: MachineCpu;
  readonly brokers: readonly { readonly pid: number; readonly cpuS: number }[];
}

/** CPU used since a sample, over the wall time. */
export interface CpuUse {
  /** This process (all its threads: librdkafka's, LevelDB's), in % of one core. */
  readonly processCpuPct: number;
  /** The local broker's nodes, in % of one core; NaN for an external broker. */
  readonly brokerCpuPct: number;
  /** The whole machine (PostgreSQL and other work included), in % of all its cores. */
  readonly machineCpuPct: number;
}

export function cpuSample(brokers: readonly string[]): CpuSample {
  const pids = localBrokerPids(brokers);
  return {
    at: performance.now(),
    process: process.cpuUsage(),
    machine: machineCpu(),
    brokers: pids.flatMap((pid) => {
      const cpuS = processCpuS(pid);
      return cpuS === undefined ? [] : [{ pid, cpuS }];
    }),
  };
}

export function cpuSince(start: CpuSample): CpuUse {
  const elapsedS = (performance.now() - start.at) / 1000;
  const used = process.cpuUsage(start.process);
  const machine = machineCpu();
  const brokerS = start.brokers.reduce((sum, { pid, cpuS }) => sum + ((processCpuS(pid) ?? cpuS) - cpuS), 0);
  const percent = (value: number) => Math.round(value * 1000) / 10;
  return {
    processCpuPct: percent(elapsedS > 0 ? (used.user + used.system) / 1e6 / elapsedS : Number.NaN),
    brokerCpuPct: percent(start.brokers.length > 0 && elapsedS > 0 ? brokerS / elapsedS : Number.NaN),
    machineCpuPct: percent(machine.totalS > start.machine.totalS ? (machine.busyS - start.machine.busyS) / (machine.totalS - start.machine.totalS) : Number.NaN),
  };
}
