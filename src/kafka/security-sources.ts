// Where connection security comes from when the code gives none: the KAFKA_* environment and
// client properties files (the `client.properties` Confluent Cloud, MSK and Aiven hand out).
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import type { KafkaSecurityOptions, TlsOptions } from './security.js';

/** The variables `securityFromEnvironment` reads, documented in the README. */
export const securityVariables = [
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_TLS',
  'KAFKA_TLS_CA',
  'KAFKA_TLS_CERT',
  'KAFKA_TLS_KEY',
  'KAFKA_TLS_KEY_PASSWORD',
  'KAFKA_TLS_VERIFY_HOSTNAME',
  'KAFKA_CONFIG_FILE',
] as const;

function flag(value: string, variable: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new InvalidArgumentError(variable, `${JSON.stringify(value.slice(0, 20))} must be true or false`);
}

/**
 * The `kafka` option from KAFKA_SASL_*, KAFKA_TLS_* and KAFKA_CONFIG_FILE (a properties file,
 * read first; the variables override it). Undefined when none is set.
 */
export function securityFromEnvironment(env: NodeJS.ProcessEnv = process.env): { options: KafkaSecurityOptions; brokers?: string[] } | undefined {
  const get = (name: (typeof securityVariables)[number]) => {
    const value = env[name];
    return value === undefined || value.length === 0 ? undefined : value;
  };
  if (!securityVariables.some((name) => get(name) !== undefined)) return undefined;
  const file = get('KAFKA_CONFIG_FILE');
  const fromFile = file === undefined ? undefined : securityFromPropertiesFile(file, 'KAFKA_CONFIG_FILE');
  const options: { -readonly [K in keyof KafkaSecurityOptions]: KafkaSecurityOptions[K] } = { ...fromFile?.options };
  const mechanism = get('KAFKA_SASL_MECHANISM');
  const username = get('KAFKA_SASL_USERNAME');
  const password = get('KAFKA_SASL_PASSWORD');
  if (mechanism !== undefined || username !== undefined || password !== undefined) {
    const upper = (mechanism ?? (options.sasl?.mechanism as string | undefined) ?? '').toUpperCase();
    if (upper === 'OAUTHBEARER') throw new InvalidArgumentError('KAFKA_SASL_MECHANISM', 'OAUTHBEARER needs a token provider: give it in code (the `kafka.sasl.tokenProvider` connect option)');
    if (upper === '') throw new InvalidArgumentError('KAFKA_SASL_MECHANISM', 'is needed with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512');
    const previous = options.sasl && options.sasl.mechanism !== 'OAUTHBEARER' ? options.sasl : undefined;
    const user = username ?? previous?.username;
    const secret = password ?? previous?.password;
    if (user === undefined) throw new InvalidArgumentError('KAFKA_SASL_USERNAME', `is needed with KAFKA_SASL_MECHANISM=${upper}`);
    if (secret === undefined) throw new InvalidArgumentError('KAFKA_SASL_PASSWORD', `is needed with KAFKA_SASL_MECHANISM=${upper}`);
    options.sasl = { mechanism: upper as 'PLAIN', username: user, password: secret };
  }
  const tls: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = typeof options.tls === 'object' ? { ...options.tls } : {};
  const ca = get('KAFKA_TLS_CA');
  const cert = get('KAFKA_TLS_CERT');
  const key = get('KAFKA_TLS_KEY');
  const keyPassword = get('KAFKA_TLS_KEY_PASSWORD');
  const verify = get('KAFKA_TLS_VERIFY_HOSTNAME');
  if (ca !== undefined) tls.ca = ca;
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  if (keyPassword !== undefined) tls.keyPassword = keyPassword;
  if (verify !== undefined) tls.verifyHostname = flag(verify, 'KAFKA_TLS_VERIFY_HOSTNAME');
  const on = get('KAFKA_TLS');
  if (on !== undefined && !flag(on, 'KAFKA_TLS')) options.tls = false;
  else if (Object.keys(tls).length > 0) options.tls = tls;
  else if (on !== undefined) options.tls = true;
  return { options, ...(fromFile?.brokers ? { brokers: fromFile.brokers } : {}) };
}

/** Parses Java-style properties: `key=value` or `key: value` lines, `#` and `!` comments, `\` continuations. */
export function parseProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trimStart();
    if (line.length === 0 || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trimStart();
    const match = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!match) properties.set(line.trim(), '');
    else properties.set(match[1]!, match[2]!.trimEnd());
  }
  return properties;
}

/**
 * A client properties file as the `kafka` option: librdkafka's names, and the Java client's
 * where they differ (`sasl.mechanism`, `sasl.jaas.config` with username and password). The
 * other settings go to `config`, where the owned ones are refused as in code.
 */
export function securityFromProperties(properties: Map<string, string>, source: string): { options: KafkaSecurityOptions; brokers?: string[] } {
  const config: Record<string, string> = {};
  let protocol: string | undefined;
  let mechanism: string | undefined;
  let username: string | undefined;
  let password: string | undefined;
  let brokers: string[] | undefined;
  const tls: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = {};
  for (const [name, value] of properties) {
    switch (name) {
      case 'bootstrap.servers':
        brokers = value.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
        break;
      case 'security.protocol':
        protocol = value.toUpperCase();
        break;
      case 'sasl.mechanism':
      case 'sasl.mechanisms':
        mechanism = value.toUpperCase();
        break;
      case 'sasl.username':
        username = value;
        break;
      case 'sasl.password':
        password = value;
        break;
      case 'sasl.jaas.config': {
        // The Java client's form: ... required username="..." password="...";
        username ??= /username="([^"]*)"/.exec(value)?.[1];
        password ??= /password="([^"]*)"/.exec(value)?.[1];
        break;
      }
      case 'ssl.ca.location':
      case 'ssl.ca.pem':
        tls.ca = value;
        break;
      case 'ssl.certificate.location':
      case 'ssl.certificate.pem':
        tls.cert = value;
        break;
      case 'ssl.key.location':
      case 'ssl.key.pem':
        tls.key = value;
        break;
      case 'ssl.key.password':
        tls.keyPassword = value;
        break;
      case 'ssl.endpoint.identification.algorithm':
        tls.verifyHostname = value.toLowerCase() !== 'none' && value !== '';
        break;
      // Java-only settings with no meaning to librdkafka.
      case 'client.dns.lookup':
      case 'session.timeout.ms':
      case 'acks':
      case 'sasl.login.callback.handler.class':
      case 'sasl.client.callback.handler.class':
        break;
      default:
        if (name.startsWith('ssl.truststore.') || name.startsWith('ssl.keystore.')) {
          throw new InvalidArgumentError(`${source}: ${name}`, 'JKS and PKCS#12 stores are Java-only: give the CA and certificates as PEM (ssl.ca.location, ssl.certificate.location, ssl.key.location)');
        }
        if (name.startsWith('basic.auth.') || name.startsWith('schema.registry.') || name.startsWith('bearer.auth.')) break;
        config[name] = value;
    }
  }
  if (protocol !== undefined && !['PLAINTEXT', 'SSL', 'SASL_SSL', 'SASL_PLAINTEXT'].includes(protocol)) {
    throw new InvalidArgumentError(`${source}: security.protocol`, `${JSON.stringify(protocol)} must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL`);
  }
  const options: { -readonly [K in keyof KafkaSecurityOptions]: KafkaSecurityOptions[K] } = {};
  const wantsSasl = protocol === undefined ? mechanism !== undefined : protocol.startsWith('SASL_');
  if (wantsSasl) {
    if (mechanism === 'OAUTHBEARER') throw new InvalidArgumentError(`${source}: sasl.mechanism`, 'OAUTHBEARER needs a token provider: give it in code (the `kafka.sasl.tokenProvider` connect option)');
    if (mechanism === undefined) throw new InvalidArgumentError(`${source}: sasl.mechanism`, 'is needed with security.protocol SASL_*: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512');
    if (username === undefined) throw new InvalidArgumentError(`${source}: sasl.username`, 'is needed for SASL (or sasl.jaas.config with username="...")');
    if (password === undefined) throw new InvalidArgumentError(`${source}: sasl.password`, 'is needed for SASL (or sasl.jaas.config with password="...")');
    options.sasl = { mechanism: mechanism as 'PLAIN', username, password };
  }
  const wantsTls = protocol === undefined ? Object.keys(tls).length > 0 || wantsSasl : protocol.endsWith('SSL');
  options.tls = wantsTls ? (Object.keys(tls).length > 0 ? tls : true) : false;
  if (Object.keys(config).length > 0) options.config = config;
  return { options, ...(brokers ? { brokers } : {}) };
}

export function securityFromPropertiesFile(file: string, argument: string): { options: KafkaSecurityOptions; brokers?: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(argument, `${JSON.stringify(file)} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return securityFromProperties(parseProperties(text), `${argument} ${file}`);
}
