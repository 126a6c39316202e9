// The benchmark harness: `npm run bench -- <scenario> [options]`.
// It finds a broker (KAFKA_BROKERS, the running `default` cluster, or a cluster of its own
// named `bench` that it stops at the end; --own-cluster forces the latter), runs the
// scenario's warm-up repetition(s) and then --repeat repetitions, and writes
// bench/results/<scenario>-<timestamp>.json with the median of every figure and each
// repetition's figures.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { connectToKafka, LocalKafkaCluster, type KafkaForRun } from '../src/local-kafka/index.js';
import { packageRoot } from '../src/local-kafka/home.js';
import { machine, versions } from './environment.js';
import { positiveInteger, type AnyScenario, type RepetitionResult } from './scenario.js';
import { scenarios } from './scenarios/index.js';
import { medianFigures, round } from './stats.js';

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface RepetitionRecord extends RepetitionResult {
  readonly repetition: number;
  readonly durationS: number;
}

async function runScenario(scenario: AnyScenario, raw: Record<string, unknown>): Promise<void> {
  const repeat = positiveInteger('repeat', raw.repeat);
  const warmups = Number(raw.warmup);
  if (!Number.isInteger(warmups) || warmups < 0) throw new Error(`--warmup must be 0 or more, not "${String(raw.warmup)}"`);
  const options: unknown = scenario.parseOptions(raw);
  const startedAt = new Date();
  const machineAtStart = machine();

  const kafka = raw.ownCluster === true ? await ownCluster() : await connectToKafka({ name: 'bench', log });
  const stopOnSignal = releaseOnSignal(kafka);
  const warmUpRecords: RepetitionRecord[] = [];
  const records: RepetitionRecord[] = [];
  try {
    log(`${scenario.name}: brokers ${kafka.brokers.join(',')}${kafka.cluster ? ' (started for this run)' : ''}; ${warmups} warm-up + ${repeat} repetition(s)`);
    for (let i = 1; i <= warmups + repeat; i++) {
      const warmUp = i <= warmups;
      const repetition = warmUp ? i : i - warmups;
      const label = warmUp ? `warm-up ${repetition}/${warmups}` : `repetition ${repetition}/${repeat}`;
      log(`${label}...`);
      const began = performance.now();
      const result = await scenario.run(options, { brokers: kafka.brokers, repetition, warmUp, log: (line) => log(`  ${line}`) });
      const record = { repetition, durationS: round((performance.now() - began) / 1000, 1), ...result };
      (warmUp ? warmUpRecords : records).push(record);
      log(`${label} done in ${record.durationS} s`);
    }
  } finally {
    await scenario.release?.().catch((error: unknown) => log(`releasing ${scenario.name}: ${String(error)}`));
    await kafka.release();
    stopOnSignal();
  }

  const medians = medianFigures(records.map((r) => r.figures));
  const finishedAt = new Date();
  const result = {
    scenario: scenario.name,
    description: scenario.description,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: round((finishedAt.getTime() - startedAt.getTime()) / 1000, 1),
    machine: machineAtStart,
    versions: { ...versions(), ...(await scenario.versions?.()) },
    kafka: { brokers: kafka.brokers, startedForThisRun: kafka.cluster !== undefined, nodes: kafka.brokers.length },
    options,
    repeat,
    warmups,
    notes: scenario.notes?.(options) ?? [],
    medians,
    repetitions: records,
    discardedWarmUps: warmUpRecords,
  };

  const dir = join(packageRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${scenario.name}-${basicIsoTimestamp(startedAt)}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');

  const m = machineAtStart;
  const lines = [
    `${scenario.name}: medians of ${repeat} repetition(s) after ${warmups} discarded warm-up(s), ${result.durationS} s in all`,
    `machine: ${m.cpus} cpus, ${m.memoryGiB} GiB, load ${m.loadAverage1m} at start; ${Object.entries(result.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...(scenario.summarize?.(medians, options) ?? Object.entries(medians).map(([name, value]) => `  ${name}: ${value}`)),
    `result: ${relative(process.cwd(), file) || file}`,
    ...(scenario.publish?.({ file, command: result.command, startedAt: result.startedAt, machine: m, versions: result.versions, repeat, warmups, medians }, options) ?? []),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * A cluster named `bench` for this run only, even when KAFKA_BROKERS is set or the `default`
 * cluster runs: figures taken on a broker that other work shares are hard to compare.
 */
async function ownCluster(): Promise<KafkaForRun> {
  await LocalKafkaCluster.stopByName('bench');
  const cluster = await LocalKafkaCluster.start({ name: 'bench', log });
  return { brokers: cluster.brokers, cluster, release: () => cluster.stop() };
}

/** On Ctrl-C or SIGTERM, stop the cluster this run started before exiting. Returns the un-registration. */
function releaseOnSignal(kafka: KafkaForRun): () => void {
  const handler = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping`);
    kafka.release().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** ISO 8601 basic format, safe in file names: 20260101T120000Z. */
function basicIsoTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

const program = new Command('bench')
  .description('Scribe benchmarks on a real local Kafka; JSON results in bench/results/')
  .showHelpAfterError();
for (const scenario of scenarios) {
  const command = program
    .command(scenario.name)
    .description(scenario.description)
    .option('--repeat <n>', 'measured repetitions; the summary reports their medians', '3')
    .option('--warmup <n>', 'repetitions run first and discarded', '1')
    .option('--own-cluster', 'start a 1-node cluster for this run even if KAFKA_BROKERS or the default cluster is there');
  scenario.defineOptions(command);
  command.action((raw: Record<string, unknown>) => runScenario(scenario, raw));
}

program.parseAsync(process.argv).catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
