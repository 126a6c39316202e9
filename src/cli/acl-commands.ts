// `scribe acls`: the ACLs a role needs on a store (one prefix per store), printed, and granted
// with an administrator's connection when asked (`--apply`).
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { createAcls } from '../kafka/index.js';
import { aclsFor, roles, type Role } from '../store/access.js';
import { storeFlag } from './arguments.js';
import { connectionOf, withConnectionFlags, type ConnectionFlags } from './connection-flags.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

export function principalFlag(value: unknown): string {
  if (typeof value !== 'string' || !/^User:[^\s,;*]{1,255}$/.test(value)) {
    throw new InvalidArgumentError('--principal', `${typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : String(value)} must be User:<name> (the name the broker authenticates: a SASL user, a certificate's name)`);
  }
  return value;
}

export function roleFlag(value: unknown): Role {
  if (typeof value !== 'string' || !(roles as readonly string[]).includes(value)) {
    throw new InvalidArgumentError('--role', `${typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : String(value)} must be one of ${roles.join(', ')}`);
  }
  return value as Role;
}

export function aclCommands(program: Command): void {
  withConnectionFlags(program.command('acls'))
    .description("print the ACLs a role needs on a store's topics, groups and transactional ids (prefix `<store>.`); --apply grants them with an admin's credentials")
    .requiredOption('--store <name>', 'the store (its topic prefix)')
    .requiredOption('--principal <User:name>', 'who gets them')
    .requiredOption('--role <role>', `${roles.join(' | ')}: writer processes, read-only processes and subscribers, operators who create and grow stores`)
    .option('--apply', 'grant them on the cluster (the connection must be a super user or hold ALTER on the cluster)')
    .option('--json', 'print them as JSON')
    .action(async (options: ConnectionFlags & { store: string; principal: string; role: string; apply?: boolean; json?: boolean }) => {
      const store = storeFlag(options.store);
      const principal = principalFlag(options.principal);
      const role = roleFlag(options.role);
      const acls = aclsFor(store, role).map((acl) => ({ principal, ...acl }));
      // Checked before printing: `--apply` with a bad connection flag must not half-succeed.
      const connection = options.apply ? connectionOf(options, 'scribe-cli') : undefined;
      if (options.json) process.stdout.write(`${JSON.stringify({ store, principal, role, acls, applied: options.apply === true }, null, 2)}\n`);
      else {
        for (const acl of acls) process.stdout.write(`ALLOW ${principal} ${acl.operation.padEnd(16)} ${acl.resourceType.padEnd(16)} ${acl.patternType} ${acl.name}   # ${acl.why}\n`);
      }
      if (connection) {
        await createAcls(connection, acls);
        log(`granted ${acls.length} ACLs to ${principal} on store ${store} (role ${role})`);
      }
    });
}
