// Scribe on a secured broker (SASL_SSL, SCRAM-SHA-512, a CA of its own, ACLs enforced), started
// by the project's own scripts for this file: every client authenticates and encrypts; wrong
// credentials, an unknown CA and a wrong host name fail fast with typed errors that never show
// a secret; each role's ACLs (scribe acls) run its workload and one ACL less fails naming it;
// two tenants on one broker cannot touch each other's store.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account } from '../../examples/bank-account.js';
import { aclsFor, AuthenticationError, AuthorizationError, EventStore, TlsError, type ConnectOptions, type KafkaSecurityOptions, type Role } from '../../src/index.js';
import { createAcls, deleteAcls, KafkaAdmin, parkedClients, type Acl } from '../../src/kafka/index.js';
import { LocalKafkaCluster } from '../../src/local-kafka/index.js';
import { newPassword, type ScramUser } from '../../src/local-kafka/secure-cluster.js';

const run = promisify(execFile);
const user = (name: string): ScramUser => ({ name, password: newPassword() });
const tenantA = user('tenant-a');
const tenantB = user('tenant-b');
const reader = user('reader-a');
const operator = user('operator');
const probe = user('probe');

let cluster: LocalKafkaCluster;
const dataDirs: string[] = [];
const logLines: string[] = [];
const errorTexts: string[] = [];

function security(who: ScramUser): KafkaSecurityOptions {
  return cluster.clientSecurity(who)!;
}

function options(store: string, who: ScramUser, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  const dataDir = mkdtempSync(join(tmpdir(), 'scribe-secure-'));
  dataDirs.push(dataDir);
  return { brokers: cluster.brokers, store, kafka: security(who), partitions: 2, dataDir, appendTimeoutMs: 15_000, log: (line) => logLines.push(line), ...extra };
}

async function grant(store: string, who: ScramUser, role: Role): Promise<Acl[]> {
  const acls = aclsFor(store, role).map((acl) => ({ ...acl, principal: `User:${who.name}` }));
  await createAcls(cluster.adminConnection, acls);
  return acls;
}

/** Runs `work` and returns what it threw (recording the text for the secrets check). */
async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    errorTexts.push(`${String(error)} ${JSON.stringify(error)}`);
    return error as Error;
  }
  throw new Error('expected a failure');
}

async function endOffsets(topic: string): Promise<number[]> {
  const admin = KafkaAdmin.connect(cluster.adminConnection);
  try {
    return [...(await admin.endOffsets(topic, [0, 1])).values()];
  } finally {
    await admin.disconnect();
  }
}

/** A writer's whole workload: append, read, a named subscription, a command at the owner. */
async function writerWorkload(store: EventStore, streamId: string): Promise<void> {
  const opened = await store.append(streamId, [{ type: 'Opened', data: { owner: 'ada' } }], { expectedVersion: 'no_stream' });
  expect(opened.nextExpectedVersion).toBe(0);
  const read = [];
  for await (const event of store.readStream(streamId)) read.push(event.type);
  expect(read).toEqual(['Opened']);
  store.register('account', account);
  await store.execute('account', `${streamId}-cmd`, { type: 'Open', owner: 'bob' });
  const seen: string[] = [];
  const subscription = await store.subscribe({ name: 'balances', from: 'start' }, async (event) => void seen.push(event.streamId));
  await expect.poll(() => seen.includes(streamId), { timeout: 15_000 }).toBe(true);
  await subscription.stop();
}

beforeAll(async () => {
  await LocalKafkaCluster.stopByName('secure-test');
  cluster = await LocalKafkaCluster.start({ name: 'secure-test', secure: true, unsecuredOAuthBearer: true, users: [tenantA, tenantB, reader, operator, probe], log: (line) => process.stderr.write(`[secure kafka] ${line}\n`) });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('connecting to a secured cluster', () => {
  it('a wrong password fails the connect within seconds with AUTHENTICATION_FAILED, nothing left running, no secret shown', async () => {
    const started = Date.now();
    const error = await failure(() => EventStore.connect(options('auth-store', { name: probe.name, password: 'not-the-password-42' })));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'AUTHENTICATION_FAILED', retriable: false });
    expect(error.message).toMatch(/kafka\.sasl/);
    expect(error.message).not.toContain('not-the-password-42');
    expect(Date.now() - started).toBeLessThan(10_000);
    // Clients whose call was ended early are destroyed once librdkafka returns.
    await expect.poll(() => parkedClients(), { timeout: 20_000 }).toEqual([]);
  });

  it('a client without TLS at the TLS listener fails the connect within seconds with TLS_FAILED (protocol-mismatch) naming kafka.tls, nothing left running', async () => {
    const plain: ConnectOptions = { brokers: cluster.brokers, store: 'plain-store', dataDir: mkdtempSync(join(tmpdir(), 'scribe-secure-')) };
    dataDirs.push(plain.dataDir!);
    for (const kafka of [undefined, { tls: false, sasl: { mechanism: 'SCRAM-SHA-512', username: probe.name, password: probe.password } }] as const) {
      const started = Date.now();
      const error = await failure(() => EventStore.connect({ ...plain, ...(kafka ? { kafka } : {}) }));
      expect(error).toBeInstanceOf(TlsError);
      expect(error).toMatchObject({ code: 'TLS_FAILED', failure: 'protocol-mismatch' });
      expect(error.message).toContain(`the listener at ${cluster.brokers[0]} speaks TLS`);
      expect(error.message).toMatch(/kafka\.tls/);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    await expect.poll(() => parkedClients(), { timeout: 30_000 }).toEqual([]);
  });

  it('a broker certificate from an unknown CA fails with TLS_FAILED (unknown-ca) and says to give kafka.tls.ca', async () => {
    const error = await failure(() => EventStore.connect({ ...options('tls-store', operator), kafka: { ...security(operator), tls: true } }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error).toMatchObject({ code: 'TLS_FAILED', failure: 'unknown-ca' });
    expect(error.message).toMatch(/kafka\.tls\.ca/);
  });

  it('a broker address its certificate does not name fails with TLS_FAILED (hostname-mismatch); verifyHostname: false connects', async () => {
    await grant('host-store', operator, 'admin');
    const byAddress = cluster.brokers.map((broker) => broker.replace(/^localhost:/, '127.0.0.1:'));
    const error = await failure(() => EventStore.connect({ ...options('host-store', operator), brokers: byAddress }));
    expect(error).toMatchObject({ code: 'TLS_FAILED', failure: 'hostname-mismatch' });
    const tls = security(operator).tls as { ca: string };
    const store = await EventStore.connect({ ...options('host-store', operator), brokers: byAddress, writer: false, kafka: { ...security(operator), tls: { ca: tls.ca, verifyHostname: false } } });
    await store.close();
  });
});

describe('OAUTHBEARER with a token provider', () => {
  /** An unsigned JWT, as the test broker's unsecured validator takes it (a real one is signed by the identity provider). */
  const token = (sub: string) => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    return `${part({ alg: 'none' })}.${part({ sub, iat: now, exp: now + 3600 })}.`;
  };

  it("authenticates every client with the provider's token (the principal is its subject); a provider that fails gives AUTHENTICATION_FAILED", async () => {
    const store = 'oauth-store';
    await grant(store, operator, 'admin');
    await (await EventStore.connect(options(store, operator, { writer: false }))).close();
    await grant(store, { name: 'oauth-app', password: '' }, 'writer');
    const ca = (security(operator).tls as { ca: string }).ca;
    let asked = 0;
    const viaToken = await EventStore.connect({
      ...options(store, operator),
      kafka: { tls: { ca }, sasl: { mechanism: 'OAUTHBEARER', tokenProvider: async () => (asked++, { token: token('oauth-app'), lifetimeMs: 3_600_000, principal: 'oauth-app' }) } },
    });
    try {
      await writerWorkload(viaToken, 'o-1');
      expect(asked).toBeGreaterThan(0);
    } finally {
      await viaToken.close();
    }
    const error = await failure(() =>
      EventStore.connect({
        ...options(store, operator),
        kafka: { tls: { ca }, sasl: { mechanism: 'OAUTHBEARER', tokenProvider: () => Promise.reject(new Error('the identity provider said no')) } },
      }),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toMatch(/the identity provider said no/);
  });
});

describe('least privilege: the ACLs of `scribe acls` per role', () => {
  const store = 'lp';

  beforeAll(async () => {
    await grant(store, operator, 'admin');
    // The operator creates the store; no other principal can.
    const created = await EventStore.connect(options(store, operator, { writer: false }));
    await created.close();
  });

  it('writer: exactly its ACLs run appends, reads, commands and subscriptions; each one removed fails the connect with AUTHORIZATION_FAILED naming it', async () => {
    const acls = await grant(store, probe, 'writer');
    const store1 = await EventStore.connect(options(store, probe));
    try {
      await writerWorkload(store1, 'w-1');
    } finally {
      await store1.close();
    }
    for (const missing of acls) {
      await deleteAcls(cluster.adminConnection, [missing]);
      try {
        const error = await failure(() => EventStore.connect(options(store, probe)));
        expect(error, `${missing.resourceType} ${missing.operation}`).toBeInstanceOf(AuthorizationError);
        expect(error).toMatchObject({ code: 'AUTHORIZATION_FAILED', resourceType: missing.resourceType, aclOperation: missing.operation });
      } finally {
        await createAcls(cluster.adminConnection, [missing]);
      }
    }
    await deleteAcls(cluster.adminConnection, acls);
  });

  it('reader: reads and a named subscription with its ACLs; without READ on the topics the connect fails, without the group the subscription does', async () => {
    const acls = await grant(store, reader, 'reader');
    const readerStore = await EventStore.connect(options(store, reader, { writer: false }));
    try {
      const read = [];
      for await (const event of readerStore.readStream('w-1')) read.push(event.type);
      expect(read).toEqual(['Opened']);
      const seen: string[] = [];
      const subscription = await readerStore.subscribe({ name: 'report', from: 'start' }, async (event) => void seen.push(event.streamId));
      await expect.poll(() => seen.includes('w-1'), { timeout: 15_000 }).toBe(true);
      await subscription.stop();
      // A reader may not append: its append goes to the owner through `<store>.appends`, which
      // it may not write (the broker refuses its producer an id). It is told so at once, with the
      // topic and the operation, and nothing reaches any of the store's topics.
      const raw = ['appends', 'events', 'replies', 'snapshots'].map((t) => `${store}.${t}`);
      const before = await Promise.all(raw.map(endOffsets));
      for (const streamId of ['r-1', 'w-1']) {
        const started = Date.now();
        const refused = await failure(() => readerStore.append(streamId, [{ type: 'Opened', data: {} }], { expectedVersion: 'any' }));
        expect(refused).toBeInstanceOf(AuthorizationError);
        expect(refused).toMatchObject({ code: 'AUTHORIZATION_FAILED', resourceType: 'TOPIC', aclOperation: 'WRITE', resource: `${store}.appends`, retriable: false });
        expect(refused.message).toMatch(/scribe acls/);
        expect(Date.now() - started).toBeLessThan(5_000);
      }
      expect(await Promise.all(raw.map(endOffsets))).toEqual(before);
    } finally {
      await readerStore.close();
    }
    const [topicRead, groupRead] = acls;
    await deleteAcls(cluster.adminConnection, [groupRead!]);
    const withoutGroup = await EventStore.connect(options(store, reader, { writer: false }));
    try {
      const error = await failure(() => withoutGroup.subscribe({ name: 'report', from: 'start' }, async () => undefined));
      expect(error).toMatchObject({ code: 'AUTHORIZATION_FAILED', resourceType: 'GROUP' });
    } finally {
      await withoutGroup.close();
    }
    await deleteAcls(cluster.adminConnection, [topicRead!]);
    const error = await failure(() => EventStore.connect(options(store, reader, { writer: false })));
    expect(error).toBeInstanceOf(AuthorizationError);
  });

  it('admin: grows the store (CREATE and ALTER on its prefix) while a writer runs', async () => {
    await grant(store, probe, 'writer');
    const writer = await EventStore.connect(options(store, probe));
    const ops = await EventStore.connect(options(store, operator, { writer: false }));
    try {
      const grown = await ops.grow(3);
      expect(grown.partitions).toBe(3);
      await writer.append('after-growth', [{ type: 'Opened', data: {} }], { expectedVersion: 'no_stream' });
    } finally {
      await Promise.all([ops.close(), writer.close()]);
    }
  });
});

describe('tenant isolation: two stores, two principals, one broker', () => {
  it("each tenant runs its own store; the other's store gives AUTHORIZATION_FAILED and nothing is written to it", async () => {
    for (const [who, store] of [[tenantA, 'tenant-a-store'], [tenantB, 'tenant-b-store']] as const) {
      await grant(store, operator, 'admin');
      await (await EventStore.connect(options(store, operator, { writer: false }))).close();
      await grant(store, who, 'writer');
    }
    const a = await EventStore.connect(options('tenant-a-store', tenantA));
    try {
      await writerWorkload(a, 'a-1');
      const topicsOfB = ['events', 'appends', 'snapshots', 'replies'].map((t) => `tenant-b-store.${t}`);
      const before = await Promise.all(topicsOfB.map(endOffsets));
      for (const writer of [true, false]) {
        const error = await failure(() => EventStore.connect(options('tenant-b-store', tenantA, { writer })));
        expect(error).toBeInstanceOf(AuthorizationError);
        expect((error as AuthorizationError).resource).toMatch(/^tenant-b-store\./);
      }
      expect(await Promise.all(topicsOfB.map(endOffsets))).toEqual(before);
    } finally {
      await a.close();
    }
    const b = await EventStore.connect(options('tenant-b-store', tenantB));
    try {
      await writerWorkload(b, 'b-1');
      await expect(failure(() => EventStore.connect(options('tenant-a-store', tenantB, { writer: false })))).resolves.toBeInstanceOf(AuthorizationError);
    } finally {
      await b.close();
    }
  });
});

describe('the CLI on a secured cluster', () => {
  it('`scribe acls --apply` grants with --config, `partitions status` connects with flags, --json and errors never show a password', async () => {
    const config = cluster.writeAdminProperties();
    const scribe = (...args: string[]) => run('node', ['bin/scribe.js', ...args], { env: { ...process.env, KAFKA_BROKERS: '' } });
    const applied = await scribe('acls', '--store', 'cli-store', '--principal', `User:${probe.name}`, '--role', 'admin', '--apply', '--json', '--config', config);
    const printed = JSON.parse(applied.stdout) as { acls: unknown[]; applied: boolean };
    expect(printed.applied).toBe(true);
    expect(printed.acls).toHaveLength(aclsFor('cli-store', 'admin').length);
    await (await EventStore.connect(options('cli-store', probe, { writer: false }))).close();
    const ca = (security(probe).tls as { ca: string }).ca;
    const status = await scribe('partitions', 'status', '--store', 'cli-store', '--brokers', cluster.bootstrap, '--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-username', probe.name, '--sasl-password', probe.password, '--tls-ca', ca);
    expect(status.stdout).toMatch(/partitions: 2/);
    const wrong = await failure(() => scribe('partitions', 'status', '--store', 'cli-store', '--brokers', cluster.bootstrap, '--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-username', probe.name, '--sasl-password', 'cli-wrong-secret-7', '--tls-ca', ca));
    const stderr = (wrong as Error & { stderr: string }).stderr;
    expect(stderr).toMatch(/\(AUTHENTICATION_FAILED\)/);
    expect(stderr).not.toContain('cli-wrong-secret-7');
    for (const text of [applied.stdout, applied.stderr, status.stdout, status.stderr]) expect(text).not.toContain(cluster.secure!.admin.password);
  });

  it('a command without TLS at the TLS listener says so within seconds; `projections status` takes the connection flags too', async () => {
    const env = { ...process.env, KAFKA_BROKERS: '', KAFKA_CONFIG_FILE: '' };
    // When the error is said, not when the process ends: librdkafka's call (and so the process) ends at its own timeout.
    const plain = spawn('node', ['bin/scribe.js', 'partitions', 'status', '--store', 'cli-store', '--brokers', cluster.bootstrap], { env });
    const started = Date.now();
    let stderr = '';
    const said = new Promise<number>((resolve) => plain.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), stderr.includes('\n') && resolve(Date.now() - started))));
    const exited = new Promise<number | null>((resolve) => plain.once('exit', resolve));
    expect(await said).toBeLessThan(10_000);
    expect(await exited).toBe(1);
    errorTexts.push(stderr);
    expect(stderr).toMatch(/\(TLS_FAILED\)/);
    expect(stderr).toContain(`the listener at ${cluster.brokers[0]} speaks TLS`);
    expect(stderr).toMatch(/--tls/);
    const scribe = (...args: string[]) => run('node', ['bin/scribe.js', ...args], { env });
    const config = cluster.writeAdminProperties();
    const projections = await scribe('projections', 'status', '--store', 'cli-store', '--config', config, '--schema', 'scribe_secure_none');
    expect(projections.stdout).toMatch(/no projections in schema scribe_secure_none/);
  });

  it('no password of any user appears in any log line or error message of this file', () => {
    const secrets = [tenantA, tenantB, reader, operator, probe, cluster.secure!.admin].map((u) => u.password);
    for (const text of [...logLines, ...errorTexts]) for (const secret of secrets) expect(text).not.toContain(secret);
    expect(errorTexts.length).toBeGreaterThan(5);
  });
});
