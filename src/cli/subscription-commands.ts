// `scribe subscriptions list|lag`: a store's named subscriptions, and how far each is behind
// the log per partition (events and the age of the oldest not handled).
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { listSubscriptions, subscriptionLag, type SubscriptionLag } from '../operator/subscriptions.js';
import { withConnectionFlags, type ConnectionFlags } from './connection-flags.js';
import { json, out, table, type JsonFlag } from './output.js';
import { withStore } from './store-session.js';

interface StoreFlag {
  readonly store: string;
}

function printLag(lag: SubscriptionLag): void {
  out(`subscription ${lag.name} (${lag.state}, ${lag.members} member(s)): ${lag.events} event(s) behind, oldest ${lag.seconds.toFixed(1)} s`);
  for (const line of table(
    ['  partition', 'position', 'end', 'lag events', 'lag seconds'],
    lag.partitions.map((p) => [`  ${p.partition}`, p.position ?? '-', p.end, String(p.events), p.seconds.toFixed(1)]),
  )) out(line);
}

export function subscriptionCommands(program: Command): void {
  const subscriptions = program.command('subscriptions').description("a store's named subscriptions and their lag");

  withConnectionFlags(subscriptions.command('list'))
    .description("the store's named subscriptions: state, members, events behind and the oldest one's age")
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .option('--json', 'print JSON')
    .action(async (options: ConnectionFlags & StoreFlag & JsonFlag) => {
      const lags = await withStore(options, options.store, {}, async ({ store, admin }) => {
        const found = await listSubscriptions(admin, store.name);
        return Promise.all(found.map((s) => subscriptionLag(store, admin, s)));
      });
      if (options.json) return out(json(lags.map(({ partitions: _, ...summary }) => summary), 2));
      if (lags.length === 0) return out(`no named subscriptions in ${options.store}`);
      for (const line of table(
        ['subscription', 'state', 'members', 'lag events', 'lag seconds'],
        lags.map((l) => [l.name, l.state, String(l.members), String(l.events), l.seconds.toFixed(1)]),
      )) out(line);
    });

  withConnectionFlags(subscriptions.command('lag'))
    .description('per partition: the last position handled, the end, events behind and the age of the oldest (all subscriptions, or one)')
    .argument('[name]', 'one subscription (default: all)')
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, options: ConnectionFlags & StoreFlag & JsonFlag) => {
      const lags = await withStore(options, options.store, {}, async ({ store, admin }) => {
        const found = (await listSubscriptions(admin, store.name)).filter((s) => name === undefined || s.name === name);
        if (name !== undefined && found.length === 0) throw new InvalidArgumentError('[name]', `no subscription "${name}" in ${store.name} (\`scribe subscriptions list\` shows them)`);
        return Promise.all(found.map((s) => subscriptionLag(store, admin, s)));
      });
      if (options.json) return out(json(lags, 2));
      if (lags.length === 0) return out(`no named subscriptions in ${options.store}`);
      for (const lag of lags) printLag(lag);
    });
}
