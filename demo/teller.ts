// A teller process of the demo: concurrent transfers between accounts, each a withdrawal
// guarded by the account's version (retried on conflict) and a deposit made idempotent by
// an event id derived from the transfer, so a retry after an unknown outcome never pays twice.
import { createHash, randomUUID } from 'node:crypto';
import { EventStore, WrongExpectedVersionError } from '../src/index.js';
import { load } from './bank.js';

interface Job {
  brokers: string[];
  store: string;
  accounts: string[];
  transfers: number;
  concurrency: number;
}

const report = (message: object) => process.send?.(message);

function eventId(transfer: string, leg: string): string {
  const hash = createHash('sha256').update(`${transfer}/${leg}`).digest('hex');
  return `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
}

/** Appends until the append is stored: conflicts reload the account, other retriable errors retry as they are. */
async function withRetries(attempt: () => Promise<'done' | 'skip'>, onConflict: () => void): Promise<'done' | 'skip'> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) onConflict();
      else if ((error as { retriable?: boolean }).retriable) await new Promise((r) => setTimeout(r, 50));
      else throw error;
    }
  }
}

async function run(job: Job): Promise<void> {
  const store = await EventStore.connect({ brokers: job.brokers, store: job.store, dataDir: `.scribe/demo/${job.store}/${process.pid}` });
  let remaining = job.transfers;
  let conflicts = 0;
  const teller = async () => {
    while (remaining-- > 0) {
      const from = job.accounts[Math.floor(Math.random() * job.accounts.length)]!;
      let to = from;
      while (to === from) to = job.accounts[Math.floor(Math.random() * job.accounts.length)]!;
      const amount = 1 + Math.floor(Math.random() * 50);
      const transfer = randomUUID();
      const withdrawn = await withRetries(
        async () => {
          const account = await load(store, from);
          if (account.balance < amount) return 'skip';
          await store.append(from, [{ id: eventId(transfer, 'out'), type: 'Withdrawn', data: { amount, transfer } }], { expectedVersion: account.version });
          return 'done';
        },
        () => conflicts++,
      );
      if (withdrawn === 'done') {
        await withRetries(
          async () => {
            const account = await load(store, to);
            await store.append(to, [{ id: eventId(transfer, 'in'), type: 'Deposited', data: { amount, transfer } }], { expectedVersion: account.version });
            return 'done';
          },
          () => conflicts++,
        );
      }
      report({ type: 'progress', transferred: withdrawn === 'done', conflicts });
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, teller));
  report({ type: 'done', conflicts });
  await store.close();
}

process.once('message', (job: Job) => {
  run(job).then(
    () => process.exit(0),
    (error: unknown) => {
      report({ type: 'error', message: String(error) });
      process.exit(1);
    },
  );
});
