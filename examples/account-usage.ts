import type { EventStore } from '../src/index.js';
import { account } from './bank-account.js';

export async function useAccount(store: EventStore): Promise<number> {
  // On every writer process: the owner of a stream's partition runs its commands.
  store.register('account', account);

  // Client-side: load, decide, append with the loaded version; on a conflict, again.
  await store.handle(account, 'account-42', { type: 'Open', owner: 'ada' });

  // At the owner: commands on one stream are decided one after the other, never in conflict.
  const deposit = await store.execute('account', 'account-42', { type: 'Deposit', amount: 5 });
  console.log(deposit.nextExpectedVersion, deposit.events); // 1 [{ type: 'Deposited', data: { amount: 5 } }]

  // The latest snapshot of the stream, then the events after it.
  const { state, version } = await store.load(account, 'account-42');
  console.log(version, state); // 1 { open: true, balance: 5 }
  return state.balance;
}
