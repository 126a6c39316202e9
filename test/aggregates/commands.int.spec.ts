// Deciders against a real broker: client-side `handle` with retries, `execute` at the owner
// (locally and from another process), idempotent commands, and refusals.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useAccount } from '../../examples/account-usage.js';
import { account, AccountError, type AccountEvent } from '../../examples/bank-account.js';
import { CommandRejectedError, DeciderNotRegisteredError, EventStore, type KafkaEventStore, type RecordedEvent } from '../../src/index.js';
import { owningAll } from '../support/ownership.js';

const brokers = inject('brokers');
// With SCRIBE_TEST_KAFKA=secure (`npm run test:secure`), a secured broker: SASL_SSL, SCRAM-SHA-512, ACLs on.
const kafka = inject('kafka');
const secured = kafka ? { kafka } : {};

async function readAll(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

describe('commands through deciders', () => {
  let owner: KafkaEventStore;
  let client: EventStore;

  beforeAll(async () => {
    const name = `deciders-${randomUUID().slice(0, 8)}`;
    owner = await EventStore.connect({ brokers, ...secured, store: name, partitions: 2, dataDir: `.scribe/test/${name}/owner` });
    owner.register('account', account);
    await owningAll(owner);
    client = await EventStore.connect({ brokers, ...secured, store: name, writer: false, dataDir: `.scribe/test/${name}/client` });
  });
  afterAll(async () => {
    await client?.close();
    await owner?.close();
  });

  it("runs the README's example", async () => {
    expect(await useAccount(owner)).toBe(5);
  });

  it('handle: decides against the loaded state and appends with its version; a refusal reaches the caller unchanged and appends nothing', async () => {
    const opened = await owner.handle(account, 'acc-h', { type: 'Open', owner: 'ada' });
    expect(opened).toMatchObject({ nextExpectedVersion: 0, retries: 0, state: { open: true, balance: 0 } });
    await client.handle(account, 'acc-h', { type: 'Deposit', amount: 10 });
    const refusal = await client.handle(account, 'acc-h', { type: 'Withdraw', amount: 11 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(AccountError);
    expect(refusal).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect((await readAll(client, 'acc-h')).map((e) => e.type)).toEqual(['Opened', 'Deposited']);
    expect(await client.load(account, 'acc-h')).toEqual({ state: { open: true, balance: 10 }, version: 1 });
  });

  it('32 concurrent execute calls on one stream all succeed, in arrival order, and match 32 concurrent handle calls that needed retries', async () => {
    await owner.execute('account', 'hot-x', { type: 'Open', owner: 'bob' });
    await owner.handle(account, 'hot-h', { type: 'Open', owner: 'bob' });
    const amounts = Array.from({ length: 32 }, (_, i) => i + 1);

    const executed = await Promise.all(amounts.map((amount) => owner.execute<AccountEvent>('account', 'hot-x', { type: 'Deposit', amount })));
    // Arrival order is call order here: the i-th call is the stream's (i + 1)-th event.
    expect(executed.map((r) => r.nextExpectedVersion)).toEqual(amounts);
    expect(executed.map((r) => r.events)).toEqual(amounts.map((amount) => [{ type: 'Deposited', data: { amount } }]));

    const handled = await Promise.all(amounts.map((amount) => owner.handle(account, 'hot-h', { type: 'Deposit', amount }, { maxRetries: 1_000, backoff: { initialMs: 1, maxMs: 20 } })));
    const retries = handled.reduce((sum, r) => sum + r.retries, 0);
    expect(retries).toBeGreaterThan(0);
    expect(new Set(handled.map((r) => r.nextExpectedVersion)).size).toBe(32);

    const [x, h] = await Promise.all([owner.load(account, 'hot-x'), owner.load(account, 'hot-h')]);
    expect(x).toEqual({ state: { open: true, balance: 528 }, version: 32 });
    expect(h).toEqual(x);
    console.log(`32 concurrent handle calls on one stream: ${retries} retries; execute: none`);
  });

  it('commands see plain appends to their stream made earlier in the same transaction', async () => {
    await owner.execute('account', 'acc-mixed', { type: 'Open', owner: 'eve' });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? owner.execute('account', 'acc-mixed', { type: 'Deposit', amount: 1 })
          : owner.append('acc-mixed', [{ type: 'Deposited', data: { amount: 10 } }], { expectedVersion: 'any' }),
      ),
    );
    const withdrawn = await owner.execute<AccountEvent>('account', 'acc-mixed', { type: 'Withdraw', amount: 55 });
    expect(withdrawn.nextExpectedVersion).toBe(11);
    expect(await owner.load(account, 'acc-mixed')).toEqual({ state: { open: true, balance: 0 }, version: 11 });
  });

  it('execute from a process that does not own the stream: the command travels to the owner; a refusal comes back typed', async () => {
    const opened = await client.execute<AccountEvent>('account', 'acc-r', { type: 'Open', owner: 'cy' });
    expect(opened).toMatchObject({ nextExpectedVersion: 0, events: [{ type: 'Opened', data: { owner: 'cy' } }] });
    const deposited = await client.execute<AccountEvent>('account', 'acc-r', { type: 'Deposit', amount: 3 });
    expect(deposited.events).toEqual([{ type: 'Deposited', data: { amount: 3 } }]);
    const refusal = await client.execute('account', 'acc-r', { type: 'Withdraw', amount: 4 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(CommandRejectedError);
    expect(refusal).toMatchObject({ code: 'COMMAND_REJECTED', errorName: 'AccountError', errorCode: 'INSUFFICIENT_FUNDS' });
    // At the owner itself the same refusal (issue 15: one rule wherever the owner runs), with the decider's own error as its cause.
    const local = await owner.execute('account', 'acc-r', { type: 'Withdraw', amount: 4 }).catch((e: unknown) => e);
    expect(local).toBeInstanceOf(CommandRejectedError);
    expect(local).toMatchObject({ code: 'COMMAND_REJECTED', errorName: 'AccountError', errorCode: 'INSUFFICIENT_FUNDS' });
    expect((local as Error).cause).toBeInstanceOf(AccountError);
    expect((await readAll(client, 'acc-r')).map((e) => e.type)).toEqual(['Opened', 'Deposited']);
  });

  it('a command retried with the same command id is applied once and answers with its first result', async () => {
    await owner.execute('account', 'acc-i', { type: 'Open', owner: 'di' });
    const commandId = randomUUID();
    const first = await client.execute('account', 'acc-i', { type: 'Deposit', amount: 5 }, { commandId });
    const again = await client.execute('account', 'acc-i', { type: 'Deposit', amount: 5 }, { commandId });
    const atOwner = await owner.execute('account', 'acc-i', { type: 'Deposit', amount: 5 }, { commandId });
    expect(again).toEqual(first);
    expect(atOwner).toEqual(first);
    expect((await owner.load(account, 'acc-i')).state.balance).toBe(5);
  });

  it('refuses a decider name nobody registered, and bad deciders and commands, with typed errors', async () => {
    await expect(client.execute('nobody', 'acc-n', { type: 'Open', owner: 'x' })).rejects.toBeInstanceOf(DeciderNotRegisteredError);
    await expect(owner.execute('nobody', 'acc-n', { type: 'Open', owner: 'x' })).rejects.toBeInstanceOf(DeciderNotRegisteredError);
    expect(() => owner.register('broken', { initialState: () => 0 } as never)).toThrow(/decider.evolve/);
    expect(() => owner.register('bad-policy', { ...account, snapshot: { every: 0 } })).toThrow(/decider.snapshot.every/);
    await expect(owner.execute('account', 'acc-n', { amount: 1n })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
