// DeciderSpecification: given events, when a command, then events, nothing, a state or a refusal.
import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { CommandRejectedError, InvalidArgumentError } from '../../src/index.js';
import { DeciderSpecification } from '../../src/testing/index.js';
import { account, AccountError } from '../../examples/bank-account.js';

const spec = DeciderSpecification.for(account);
const opened = { type: 'Opened', data: { owner: 'ada' } } as const;

describe('DeciderSpecification', () => {
  it('passes when the command decides exactly the expected events', () => {
    spec.given([opened]).when({ type: 'Deposit', amount: 5 }).then([{ type: 'Deposited', data: { amount: 5 } }]);
  });

  it('fails, naming the difference, when the events differ', () => {
    expect(() => spec.given([opened]).when({ type: 'Deposit', amount: 5 }).then([{ type: 'Deposited', data: { amount: 6 } }])).toThrow(AssertionError);
  });

  it('folds the given events and the decided ones into the state', () => {
    spec.given([opened, { type: 'Deposited', data: { amount: 10 } }]).when({ type: 'Withdraw', amount: 4 }).thenState({ open: true, balance: 6 });
  });

  it('checks a refusal by class, message, pattern or predicate, and returns it', () => {
    const when = spec.given([opened]).when({ type: 'Withdraw', amount: 1 });
    expect(when.thenThrows(AccountError).code).toBe('INSUFFICIENT_FUNDS');
    when.thenThrows('balance 0 < 1');
    when.thenThrows(/balance \d+/);
    when.thenThrows((error) => error instanceof AccountError && error.code === 'INSUFFICIENT_FUNDS');
    expect(() => when.thenThrows(TypeError)).toThrow(/does not match the class TypeError/);
  });

  it('fails a refusal expected of a command that was decided, and events expected of one refused', () => {
    expect(() => spec.given([opened]).when({ type: 'Deposit', amount: 1 }).thenThrows()).toThrow(/expected a refusal, but the decider decided 1 event/);
    expect(() => spec.given([]).when({ type: 'Deposit', amount: 1 }).then([])).toThrow(/the decider refused the command: AccountError: open the account first/);
  });

  it('decides as a store does: a throw of a non-Error is CommandRejectedError, a non-array result is refused', () => {
    const throwsString = DeciderSpecification.for({ ...account, decide: () => { throw 'no'; } });
    throwsString.given([]).when({ type: 'Open', owner: 'ada' }).thenThrows(CommandRejectedError);
    const returnsObject = DeciderSpecification.for({ ...account, decide: () => ({}) as never });
    returnsObject.given([]).when({ type: 'Open', owner: 'ada' }).thenThrows(InvalidArgumentError);
  });

  it('thenNothing passes only when no event is decided', () => {
    const idle = DeciderSpecification.for({ ...account, decide: () => [] });
    idle.given([opened]).when({ type: 'Deposit', amount: 1 }).thenNothing();
    expect(() => spec.given([opened]).when({ type: 'Deposit', amount: 1 }).thenNothing()).toThrow(AssertionError);
  });
});
