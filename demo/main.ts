// `npm run demo`: the main job in miniature. Several teller processes move money between
// accounts at the same time, with optimistic concurrency and retries; at the end the whole
// store is read back from Kafka to show that money was conserved and every history is exact.
// Meanwhile a projection in its own process keeps balances and the transfer ledger in
// PostgreSQL; the report checks that read model against the events.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { EventStore, type RecordedEvent } from '../src/index.js';
import { securityFromEnvironment, validateKafkaSecurity } from '../src/kafka/index.js';
import { connectToKafka } from '../src/local-kafka/index.js';
import { openPool } from '../src/projections/index.js';
import { accountIds, evolve, type Account } from './bank.js';

const tellers = 3;
const concurrencyPerTeller = 4;
const transfersPerTeller = 300;
const accounts = accountIds(12);
const openingBalance = 1_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

// Before Kafka starts: an unreachable PostgreSQL is said at once, with where it was looked for.
const pool = await openPool();
const kafka = await connectToKafka({ name: 'demo', log: (line) => say(`  kafka: ${line}`) });
// Every client below (the teller and read-model processes too) takes its security from the KAFKA_* environment.
const security = securityFromEnvironment();
say(`Kafka at ${kafka.brokers.join(',')}: ${security ? validateKafkaSecurity(security.options)!.summary : 'PLAINTEXT'}`);
let exitCode = 0;
const name = `bank-${randomUUID().slice(0, 8)}`;
const schema = `demo_${name.replace('-', '_')}`;
try {
  const store = await EventStore.connect({ brokers: kafka.brokers, store: name, partitions: 6, dataDir: `.scribe/demo/${name}/main` });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  const readModel = fork(fileURLToPath(new URL('./read-model.js', import.meta.url)));
  const readModelFailed = new Promise<never>((_, reject) => {
    readModel.on('message', (message: { type: string; message?: string }) => message.type === 'error' && reject(new Error(`read model: ${message.message}`)));
  });
  readModelFailed.catch(() => undefined);
  const readModelStarted = new Promise<void>((resolve) => readModel.on('message', (message: { type: string }) => message.type === 'started' && resolve()));
  readModel.send({ brokers: kafka.brokers, store: name, schema });
  await Promise.race([readModelStarted, readModelFailed]);
  say(`A projection process keeps balances and the transfer ledger in PostgreSQL (schema ${schema})`);
  for (const id of accounts) await store.append(id, [{ type: 'Opened', data: { balance: openingBalance } }], { expectedVersion: 'no_stream' });
  say(`Opened ${accounts.length} accounts of ${openingBalance} in store "${name}" (${store.partitions} partitions)`);
  say(`${tellers} teller processes, ${concurrencyPerTeller} concurrent transfers each, ${tellers * transfersPerTeller} transfers in all:`);

  const bar = new cliProgress.SingleBar({ format: '  transfers {bar} {value}/{total}  conflicts retried: {conflicts}', hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(tellers * transfersPerTeller, 0, { conflicts: 0 });
  const conflictsBy = new Map<number, number>();
  let done = 0;
  let transferred = 0;
  const started = Date.now();
  const children = Array.from({ length: tellers }, () => fork(fileURLToPath(new URL('./teller.js', import.meta.url))));
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.on('message', (message: { type: string; conflicts: number; transferred?: boolean; message?: string }) => {
            conflictsBy.set(child.pid!, message.conflicts);
            if (message.type === 'progress') {
              done++;
              if (message.transferred) transferred++;
            }
            if (message.type === 'error') reject(new Error(message.message));
            bar.update(done, { conflicts: [...conflictsBy.values()].reduce((a, b) => a + b, 0) });
          });
          child.on("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`teller ${child.pid} exited with ${code ?? signal}`))));
          child.send({ brokers: kafka.brokers, store: name, accounts, transfers: transfersPerTeller, concurrency: concurrencyPerTeller });
        }),
    ),
  );
  bar.stop();
  const seconds = (Date.now() - started) / 1000;

  // The report, read back from Kafka through a subscription from the start.
  const balances = new Map<string, Account>();
  const versions = new Map<string, number[]>();
  let events = 0;
  const endPositions = new Map<number, string>();
  const subscription = await store.subscribe({ from: 'start' }, (event: RecordedEvent) => {
    events++;
    balances.set(event.streamId, evolve(balances.get(event.streamId) ?? { balance: 0, version: -1 }, event));
    versions.set(event.streamId, [...(versions.get(event.streamId) ?? []), event.version]);
    endPositions.set(event.position.partition, event.position.offset);
  });
  const expectedEvents = accounts.length + transferred * 2;
  const deadline = Date.now() + 60_000;
  while (events < expectedEvents && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  await subscription.stop();
  await store.close();

  // The read model, once it has caught up, against the events read back.
  const fromEvents = accounts.map((id) => balances.get(id)?.balance ?? 0).join(' ');
  const readModelBalances = async () => {
    const { rows } = await pool.query<{ account: string; balance: string }>(`SELECT account, balance FROM "${schema}".balances`);
    const byAccount = new Map(rows.map((r) => [r.account, Number(r.balance)]));
    return accounts.map((id) => byAccount.get(id) ?? 0).join(' ');
  };
  const ledgerRows = async () => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".ledger`)).rows[0]!.n);
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    if ((await readModelBalances()) === fromEvents && (await ledgerRows()) === transferred * 2) break;
    await Promise.race([new Promise((r) => setTimeout(r, 200)), readModelFailed]);
  }
  const readModelAgrees = (await readModelBalances()) === fromEvents && (await ledgerRows()) === transferred * 2;
  readModel.send({ type: 'stop' });
  await new Promise((resolve) => readModel.once('exit', resolve));

  const total = [...balances.values()].reduce((sum, a) => sum + a.balance, 0);
  const exact = [...versions.values()].every((list) => list.every((v, i) => v === i));
  const conflicts = [...conflictsBy.values()].reduce((a, b) => a + b, 0);
  say('');
  say('Report, read back from Kafka:');
  say(`  transfers made:             ${transferred} of ${tellers * transfersPerTeller} (the others lacked funds) in ${seconds.toFixed(1)} s`);
  say(`  events appended:            ${events} (expected ${expectedEvents})`);
  say(`  conflicts detected, retried: ${conflicts}`);
  say(`  total money:                ${total} (opening total ${accounts.length * openingBalance}) ${total === accounts.length * openingBalance ? 'conserved' : 'NOT CONSERVED'}`);
  say(`  histories:                  ${exact ? 'exact: every account holds versions 0..n-1, once each, in order' : 'BROKEN'}`);
  say(`  balances:                   ${fromEvents}`);
  say(`  read model in PostgreSQL:   ${readModelAgrees ? `the same balances, and ${transferred * 2} ledger entries (two per transfer)` : `DIFFERENT: ${await readModelBalances()}, ${await ledgerRows()} ledger entries`}`);
  if (!exact || total !== accounts.length * openingBalance || events !== expectedEvents || !readModelAgrees) exitCode = 1;
} finally {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
  await pool.end();
  await kafka.release();
}
process.exit(exitCode);
