// The CPU a measurement used: this process's (all its threads, librdkafka's and LevelDB's
// included) and the whole machine's busy share, which also covers the broker, PostgreSQL and
// anything else running. Tells a measurement limited by CPU from one that waits.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { round } from './stats.js';

export interface CpuSample {
  readonly at: number;
  readonly process: NodeJS.CpuUsage;
  /** Jiffies since boot from /proc/stat (undefined where there is none). */
  readonly machine: { readonly busy: number; readonly total: number } | undefined;
}

export interface CpuUse {
  /** This process's CPU time over the wall time, in % of one core (above 100 with several threads busy). */
  readonly processCpuPct: number;
  /** The machine's busy time over all its cores, in % (100: every core busy). NaN without /proc/stat. */
  readonly machineCpuPct: number;
}

function machineJiffies(): CpuSample['machine'] {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    // idle and iowait are the fields that are not busy.
    return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

export function cpuSample(): CpuSample {
  return { at: performance.now(), process: process.cpuUsage(), machine: machineJiffies() };
}

export function cpuSince(start: CpuSample): CpuUse {
  const elapsedMs = performance.now() - start.at;
  const used = process.cpuUsage(start.process);
  const machine = machineJiffies();
  const machineCpuPct = start.machine && machine && machine.total > start.machine.total ? ((machine.busy - start.machine.busy) / (machine.total - start.machine.total)) * 100 : Number.NaN;
  return {
    processCpuPct: round(elapsedMs > 0 ? ((used.user + used.system) / 1000 / elapsedMs) * 100 : Number.NaN, 1),
    machineCpuPct: round(machineCpuPct, 1),
  };
}
