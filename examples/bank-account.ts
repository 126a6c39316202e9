import type { Decider } from '../src/index.js';

export type AccountCommand =
  | { type: 'Open'; owner: string }
  | { type: 'Deposit'; amount: number }
  | { type: 'Withdraw'; amount: number };

export type AccountEvent =
  | { type: 'Opened'; data: { owner: string } }
  | { type: 'Deposited'; data: { amount: number } }
  | { type: 'Withdrawn'; data: { amount: number } };

export interface Account {
  open: boolean;
  balance: number;
}

export class AccountError extends Error {
  constructor(
    readonly code: 'NOT_OPEN' | 'ALREADY_OPEN' | 'INSUFFICIENT_FUNDS',
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

export const account: Decider<Account, AccountCommand, AccountEvent> = {
  initialState: () => ({ open: false, balance: 0 }),
  evolve(state, event) {
    switch (event.type) {
      case 'Opened':
        return { open: true, balance: 0 };
      case 'Deposited':
        return { ...state, balance: state.balance + event.data.amount };
      case 'Withdrawn':
        return { ...state, balance: state.balance - event.data.amount };
    }
  },
  decide(command, state) {
    if (command.type === 'Open') {
      if (state.open) throw new AccountError('ALREADY_OPEN', 'the account is open already');
      return [{ type: 'Opened', data: { owner: command.owner } }];
    }
    if (!state.open) throw new AccountError('NOT_OPEN', 'open the account first');
    if (command.type === 'Deposit') return [{ type: 'Deposited', data: { amount: command.amount } }];
    if (command.amount > state.balance) throw new AccountError('INSUFFICIENT_FUNDS', `balance ${state.balance} < ${command.amount}`);
    return [{ type: 'Withdrawn', data: { amount: command.amount } }];
  },
  snapshot: { every: 100 },
};
