// A secured local Kafka for tests and the demo: a CA and a broker certificate made on the spot
// with OpenSSL, SASL_SSL with SCRAM-SHA-512 for clients, and StandardAuthorizer ACLs (only the
// `admin` super user may do anything until ACLs are granted). Not part of the event store.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KafkaSecurityOptions } from '../kafka/security.js';

const run = promisify(execFile);

/** A SCRAM-SHA-512 user of the secured cluster. */
export interface ScramUser {
  readonly name: string;
  readonly password: string;
}

/** What a secured cluster records next to its nodes. */
export interface SecureState {
  /** The CA clients must trust (PEM file). */
  readonly caFile: string;
  /** The super user the cluster starts with. */
  readonly admin: ScramUser;
  /** The host clients connect to: the only name in the broker's certificate. */
  readonly host: string;
}

/** The name in the broker certificate; 127.0.0.1 is deliberately not in it (host name checks are tested). */
export const secureHost = 'localhost';

/** Makes a CA and a broker certificate for `localhost` under `dir`; returns the PEM keystore of the broker. */
export async function makeCertificates(dir: string): Promise<{ caFile: string; keystoreFile: string }> {
  mkdirSync(dir, { recursive: true });
  const at = (name: string) => join(dir, name);
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=scribe-local-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', `/CN=${secureHost}`]);
  writeFileSync(at('ext.cnf'), `subjectAltName=DNS:${secureHost}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await openssl(['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '825', '-extfile', 'ext.cnf']);
  await openssl(['pkcs8', '-topk8', '-nocrypt', '-in', 'broker.key', '-out', 'broker.pk8.pem']);
  writeFileSync(at('broker.keystore.pem'), readFileSync(at('broker.pk8.pem'), 'utf8') + readFileSync(at('broker.pem'), 'utf8'));
  for (const key of ['ca.key', 'broker.key', 'broker.pk8.pem', 'broker.keystore.pem']) chmodSync(at(key), 0o600);
  return { caFile: at('ca.pem'), keystoreFile: at('broker.keystore.pem') };
}

/** The server.properties lines that secure a node: SASL_SSL for clients, SASL_PLAINTEXT between brokers on loopback. */
export function secureServerProperties(node: { port: number; controllerPort: number; securePort: number }, keystoreFile: string, admin: ScramUser, unsecuredOAuthBearer = false): Record<string, string> {
  const jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required';
  // Kafka's unsecured OAUTHBEARER validator takes any unsigned JWT: it lets a test prove a token
  // provider end to end, and lets anyone claim any principal. Test clusters only.
  const oauth: Record<string, string> = unsecuredOAuthBearer
    ? {
        'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512,OAUTHBEARER',
        'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
      }
    : {};
  return {
    listeners: `SASL_PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort},SASL_SSL://${secureHost}:${node.securePort}`,
    'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${node.port},SASL_SSL://${secureHost}:${node.securePort}`,
    'inter.broker.listener.name': 'SASL_PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': `${jaas} username="${admin.name}" password="${admin.password}";`,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': `${jaas};`,
    'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
    'listener.name.sasl_ssl.ssl.keystore.location': keystoreFile,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // The controller listener is PLAINTEXT on loopback: its anonymous peers must be let in.
    'super.users': `User:${admin.name};User:ANONYMOUS`,
    'allow.everyone.if.no.acl.found': 'false',
    ...oauth,
  };
}

/** `--add-scram` arguments of `kafka-storage format`: users that exist from the first start. */
export function scramFormatArguments(users: readonly ScramUser[]): string[] {
  return users.flatMap((user) => ['--add-scram', `SCRAM-SHA-512=[name=${user.name},password=${user.password}]`]);
}

export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** The `kafka` connect option for a user of the secured cluster. */
export function clientSecurity(state: SecureState, user: ScramUser): KafkaSecurityOptions {
  return { tls: { ca: state.caFile }, sasl: { mechanism: 'SCRAM-SHA-512', username: user.name, password: user.password } };
}

/** A librdkafka client properties file for the user (`--config`, KAFKA_CONFIG_FILE), readable by its owner only. */
export function writeClientProperties(file: string, brokers: readonly string[], state: SecureState, user: ScramUser): void {
  writeFileSync(
    file,
    [
      `bootstrap.servers=${brokers.join(',')}`,
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.username=${user.name}`,
      `sasl.password=${user.password}`,
      `ssl.ca.location=${state.caFile}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}
