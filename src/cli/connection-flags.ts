// The flags every `scribe` command that talks to Kafka takes: brokers, a client properties file
// and TLS/SASL flags, over the KAFKA_* environment. Secrets are best left to the file or the
// environment: a flag's value shows in the process list.
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { brokersFromEnvironment, securityFromEnvironment, securityFromPropertiesFile, validateBrokers, validateKafkaSecurity, type KafkaConnection, type KafkaSecurityOptions, type TlsOptions } from '../kafka/index.js';
import { brokersFlag } from './arguments.js';

export interface ConnectionFlags {
  readonly brokers?: string;
  readonly config?: string;
  readonly saslMechanism?: string;
  readonly saslUsername?: string;
  readonly saslPassword?: string;
  readonly tls?: boolean;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsVerifyHostname?: boolean;
}

export function withConnectionFlags(command: Command): Command {
  return command
    .option('--brokers <list>', 'host:port,... (default KAFKA_BROKERS, or bootstrap.servers of --config)')
    .option('--config <file>', 'client properties (librdkafka or Java names: security.protocol, sasl.*, ssl.*, other librdkafka settings); default KAFKA_CONFIG_FILE')
    .option('--sasl-mechanism <name>', 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default KAFKA_SASL_MECHANISM)')
    .option('--sasl-username <name>', 'default KAFKA_SASL_USERNAME')
    .option('--sasl-password <secret>', 'default KAFKA_SASL_PASSWORD (prefer it or --config: a flag shows in the process list)')
    .option('--tls', 'TLS to the brokers (on by default with SASL)')
    .option('--no-tls', 'no TLS, also with SASL (SASL_PLAINTEXT)')
    .option('--tls-ca <file>', "the cluster's CA certificate, PEM (default KAFKA_TLS_CA)")
    .option('--tls-cert <file>', 'client certificate for mutual TLS, PEM')
    .option('--tls-key <file>', "the client certificate's key, PEM")
    .option('--no-tls-verify-hostname', "do not check that a broker's certificate names its host (test clusters only)");
}

/** The connection of the flags, over --config, over the environment; checked before anything connects. */
export function connectionOf(flags: ConnectionFlags, clientId: string): KafkaConnection & { readonly kafka?: KafkaSecurityOptions } {
  const base = flags.config !== undefined ? securityFromPropertiesFile(flags.config, '--config') : securityFromEnvironment();
  const options: { -readonly [K in keyof KafkaSecurityOptions]: KafkaSecurityOptions[K] } = { ...base?.options };
  if (flags.saslMechanism !== undefined || flags.saslUsername !== undefined || flags.saslPassword !== undefined) {
    const previous = options.sasl && options.sasl.mechanism !== 'OAUTHBEARER' ? options.sasl : undefined;
    const mechanism = flags.saslMechanism ?? previous?.mechanism;
    if (mechanism === undefined) throw new InvalidArgumentError('--sasl-mechanism', 'is needed with --sasl-username and --sasl-password');
    const username = flags.saslUsername ?? previous?.username;
    const password = flags.saslPassword ?? previous?.password;
    if (username === undefined) throw new InvalidArgumentError('--sasl-username', `is needed with --sasl-mechanism ${mechanism}`);
    if (password === undefined) throw new InvalidArgumentError('--sasl-password', `is needed with --sasl-mechanism ${mechanism} (or KAFKA_SASL_PASSWORD)`);
    options.sasl = { mechanism: mechanism.toUpperCase() as 'PLAIN', username, password };
  }
  const tls: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = typeof options.tls === 'object' ? { ...options.tls } : {};
  if (flags.tlsCa !== undefined) tls.ca = flags.tlsCa;
  if (flags.tlsCert !== undefined) tls.cert = flags.tlsCert;
  if (flags.tlsKey !== undefined) tls.key = flags.tlsKey;
  if (flags.tlsVerifyHostname === false) tls.verifyHostname = false;
  if (flags.tls === false) options.tls = false;
  else if (Object.keys(tls).length > 0) options.tls = tls;
  else if (flags.tls === true) options.tls = true;
  const security = Object.keys(options).length === 0 ? undefined : validateKafkaSecurity(options, '--config/--sasl-*/--tls-*');
  let brokers: string[];
  if (flags.brokers === undefined && brokersFromEnvironment() === undefined && base?.brokers) {
    brokers = base.brokers;
    validateBrokers(brokers, flags.config !== undefined ? '--config bootstrap.servers' : 'KAFKA_CONFIG_FILE bootstrap.servers');
  } else brokers = brokersFlag(flags.brokers);
  return { brokers, clientId, ...(security ? { security, kafka: options } : {}) };
}
