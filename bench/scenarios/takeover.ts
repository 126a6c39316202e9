// takeover: how long the partitions of a writer process that dies (SIGKILL) or freezes
// (SIGSTOP) stay without an owner: from the signal to the first append accepted on one of its
// partitions by another process (issue 16, item 3). Appends to such a stream start every
// 100 ms from the other process; the first to be acknowledged ends the measurement.
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { EventStore, type KafkaEventStore } from '../../src/index.js';
import { positiveInteger, type BenchContext, type RepetitionResult, type Scenario } from '../scenario.js';
import { benchDataDir, deleteStoreTopics, randomSuffix } from '../store-fixture.js';
import { BenchWriter } from '../writer-processes.js';

export interface TakeoverOptions {
  readonly partitions: number;
  readonly sessionTimeoutMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

async function takeoverAfter(signal: 'SIGKILL' | 'SIGSTOP', options: TakeoverOptions, context: BenchContext): Promise<number> {
  const store = `takeover-${randomSuffix()}`;
  const common = { brokers: context.brokers, store, partitions: options.partitions, sessionTimeoutMs: options.sessionTimeoutMs };
  const victim = await BenchWriter.start(`takeover-${signal}`, { ...common, dataDir: benchDataDir(), clientId: `bench-${store}-victim` });
  let survivor: KafkaEventStore | undefined;
  const survivorDir = benchDataDir();
  try {
    await until('the first process owns every partition', async () => (await victim.owned()).length === options.partitions);
    survivor = await EventStore.connect({ ...common, dataDir: survivorDir, clientId: `bench-${store}-survivor`, appendTimeoutMs: 120_000 });
    const other = survivor;
    await until('the two processes share the partitions', async () => other.ownedPartitions.length > 0 && (await victim.owned()).length > 0 && other.ownedPartitions.length + (await victim.owned()).length === options.partitions);
    const victimPartitions = new Set(await victim.owned());
    let streamId = 'probe-0';
    for (let i = 1; !victimPartitions.has(other.partitionOf(streamId)); i++) streamId = `probe-${i}`;
    await other.append(streamId, [{ type: 'Probe', data: { before: true } }], { expectedVersion: 'any' });

    const signalled = performance.now();
    victim.kill(signal);
    let firstAccepted: number | undefined;
    const attempts: Promise<unknown>[] = [];
    while (firstAccepted === undefined && performance.now() - signalled < 120_000) {
      attempts.push(
        other.append(streamId, [{ type: 'Probe', data: { at: performance.now() - signalled } }], { expectedVersion: 'any' }).then(
          () => (firstAccepted ??= performance.now() - signalled),
          () => undefined,
        ),
      );
      await sleep(100);
    }
    if (firstAccepted === undefined) throw new Error(`no append was accepted within 120 s of ${signal}`);
    context.log(`${signal}: first append accepted on the victim's partitions ${Math.round(firstAccepted)} ms after the signal`);
    victim.kill('SIGKILL');
    await Promise.all(attempts);
    return firstAccepted;
  } finally {
    victim.kill('SIGCONT');
    victim.kill('SIGKILL');
    await victim.exited;
    await survivor?.close();
    await deleteStoreTopics(context.brokers, store);
    rmSync(survivorDir, { recursive: true, force: true });
  }
}

export const takeover: Scenario<TakeoverOptions> = {
  name: 'takeover',
  description: "Time from a writer process's SIGKILL or SIGSTOP to the first append accepted on its partitions by another process.",
  defineOptions(command: Command) {
    command.option('--partitions <n>', 'partitions of the fresh store', '4');
    command.option('--session-timeout-ms <n>', 'the writer group session timeout of both processes', '10000');
  },
  parseOptions(raw) {
    return { partitions: positiveInteger('partitions', raw.partitions), sessionTimeoutMs: positiveInteger('session-timeout-ms', raw.sessionTimeoutMs) };
  },
  async run(options, context): Promise<RepetitionResult> {
    const killMs = await takeoverAfter('SIGKILL', options, context);
    const stopMs = await takeoverAfter('SIGSTOP', options, context);
    return { figures: { 'sigkill.takeoverMs': Math.round(killMs), 'sigstop.takeoverMs': Math.round(stopMs) } };
  },
  notes: (o) => [`Both processes use sessionTimeoutMs ${o.sessionTimeoutMs} and the default transactionTimeoutMs (10 s).`],
};
