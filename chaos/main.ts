// `npm run chaos -- --mode ci|long --seed n ...`: runs the fault harness, prints the seed, the
// figures and the verdict, writes result.json; exits 1 on any anomaly, unrecovered or wedged process.
import { Command } from 'commander';
import { LocalKafkaCluster } from '../src/local-kafka/index.js';
import { runChaos, summary } from './run.js';

const program = new Command('chaos')
  .description("Scribe's fault harness: writers and clients under broker and process faults, checked by an independent reader")
  .option('--mode <mode>', 'ci (one fault of each kind; 8-12 minutes on a loaded 2-core machine, broker restarts dominate) or long', 'ci')
  .option('--seed <n>', 'the schedule seed (printed; pass it again to replay)')
  .option('--duration-s <n>', 'long mode: how long faults go on', '1800')
  .option('--writers <n>', 'writer processes', '3')
  .option('--clients <n>', 'client processes (not writers)', '2')
  .option('--streams <n>', 'streams appended with expected versions (the first is hot)', '12')
  .option('--only <kinds>', 'comma-separated fault kinds: keep only these from the schedule (debugging a replay)')
  .option('--reuse-cluster', 'use the running 3-node cluster named chaos instead of starting one (it is left running)')
  .option('--out <dir>', 'where histories and result.json go (default chaos-runs/<mode>-<seed>-<time>)')
  .action(async (o: { mode: string; seed?: string; durationS: string; writers: string; clients: string; streams: string; out?: string; only?: string; reuseCluster?: boolean }) => {
    if (o.mode !== 'ci' && o.mode !== 'long') throw new Error(`--mode must be ci or long, not ${o.mode}`);
    const seed = o.seed !== undefined ? Number(o.seed) : o.mode === 'ci' ? 1 : Math.floor(Math.random() * 2 ** 31);
    console.log(`chaos seed: ${seed} (replay with --mode ${o.mode} --seed ${seed})`);
    const out = o.out ?? `chaos-runs/${o.mode}-${seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const cluster = o.reuseCluster ? LocalKafkaCluster.find('chaos') : undefined;
    if (o.reuseCluster && !cluster) throw new Error('no running cluster named chaos (node bin/scribe.js kafka start --nodes 3 --name chaos)');
    const result = await runChaos({ ...(cluster ? { cluster } : {}), ...(o.only ? { only: o.only.split(',') } : {}), mode: o.mode, seed, durationS: Number(o.durationS), writers: Number(o.writers), clients: Number(o.clients), streams: Number(o.streams), out });
    console.log(summary(result));
    console.log(`result: ${out}/result.json`);
    process.exit(result.ok ? 0 : 1);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(2);
});
