import { describe, expect, it } from 'vitest';
import { DeciderSpecification, InMemoryEventStore } from '../src/testing/index.js';
import { account, AccountError } from './bank-account.js';
import { useAccount } from './account-usage.js';

describe('a bank account', () => {
  const spec = DeciderSpecification.for(account);

  it('takes deposits once open', () => {
    spec
      .given([{ type: 'Opened', data: { owner: 'ada' } }])
      .when({ type: 'Deposit', amount: 5 })
      .then([{ type: 'Deposited', data: { amount: 5 } }]);
  });

  it('refuses to go below zero', () => {
    spec
      .given([{ type: 'Opened', data: { owner: 'ada' } }])
      .when({ type: 'Withdraw', amount: 1 })
      .thenThrows(AccountError);
  });

  it('runs the service code against the store it will meet in production', async () => {
    const store = new InMemoryEventStore();
    expect(await useAccount(store)).toBe(5);
    await store.close();
  });
});
