// The bank of the demo: accounts are streams, money moves as Withdrawn/Deposited events.
import type { EventStore, RecordedEvent } from '../src/index.js';

export type BankEvent =
  | { type: 'Opened'; data: { balance: number } }
  | { type: 'Withdrawn'; data: { amount: number; transfer: string } }
  | { type: 'Deposited'; data: { amount: number; transfer: string } };

export interface Account {
  readonly balance: number;
  /** Version of the account's last event: the expected version of the next append. */
  readonly version: number;
}

export function evolve(account: Account, event: RecordedEvent): Account {
  const e = event as unknown as BankEvent;
  switch (e.type) {
    case 'Opened':
      return { balance: e.data.balance, version: event.version };
    case 'Withdrawn':
      return { balance: account.balance - e.data.amount, version: event.version };
    case 'Deposited':
      return { balance: account.balance + e.data.amount, version: event.version };
  }
}

export async function load(store: EventStore, id: string): Promise<Account> {
  let account: Account = { balance: 0, version: -1 };
  for await (const event of store.readStream(id)) account = evolve(account, event);
  return account;
}

export const accountIds = (count: number) => Array.from({ length: count }, (_, i) => `account-${i}`);
