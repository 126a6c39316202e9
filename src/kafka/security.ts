// How Scribe's Kafka clients authenticate and encrypt: the `kafka` connect option (TLS, SASL,
// OAUTHBEARER, a pass-through for other librdkafka settings), checked once and turned into the
// librdkafka settings every client Scribe builds shares (docs/decisions/0014-connection-security.md).
import { readFileSync, statSync } from 'node:fs';
import rdkafka from '@confluentinc/kafka-javascript';
import { describeValue, InvalidArgumentError } from '../errors.js';

/** One OAUTHBEARER token, as an OIDC client or the AWS MSK IAM signer produces it. */
export interface OAuthBearerToken {
  /** The token itself (a JWT for OIDC, the signed URL token for MSK IAM). */
  readonly token: string;
  /** How long the token stays valid from now, in ms; librdkafka asks again at 80% of it. */
  readonly lifetimeMs: number;
  /** The principal the token names (the `sub` claim for OIDC). */
  readonly principal: string;
  /** SASL extensions (Confluent Cloud: `logicalCluster`, `identityPoolId`). */
  readonly extensions?: Readonly<Record<string, string>>;
}

export type OAuthBearerTokenProvider = () => Promise<OAuthBearerToken>;

export const saslMechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type SaslMechanism = (typeof saslMechanisms)[number];

export type SaslOptions =
  | { readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; readonly username: string; readonly password: string }
  | { readonly mechanism: 'OAUTHBEARER'; readonly tokenProvider: OAuthBearerTokenProvider };

export interface TlsOptions {
  /** The CA that signed the brokers' certificates: a file, or the PEM text itself (default: the system's CAs). */
  readonly ca?: string;
  /** The client's certificate for mutual TLS: a file or PEM text. Needs `key`. */
  readonly cert?: string;
  /** The client certificate's private key: a file or PEM text. */
  readonly key?: string;
  /** The password of an encrypted `key`. */
  readonly keyPassword?: string;
  /** Check that a broker's certificate names the host Scribe connected to (default true). */
  readonly verifyHostname?: boolean;
}

/** The `kafka` option of `EventStore.connect`: how every client Scribe builds reaches the brokers. */
export interface KafkaSecurityOptions {
  /** TLS to the brokers: `true` for the system's CAs, or settings. Default: on when `sasl` is given, else off. */
  readonly tls?: boolean | TlsOptions;
  readonly sasl?: SaslOptions;
  /**
   * Other librdkafka settings (`socket.keepalive.enable`, `ssl.cipher.suites`, ...), given to
   * every client. Settings Scribe owns (transactions, idempotence, isolation, groups, offsets)
   * and those the typed options above cover are refused with the key named.
   */
  readonly config?: Readonly<Record<string, string | number | boolean>>;
}

/** Checked security settings: what `baseConfig` adds to every client. Never printed whole. */
export interface KafkaSecurity {
  /** librdkafka settings, secrets included. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly tokenProvider?: OAuthBearerTokenProvider;
  /** What the settings say, secrets masked: for messages. */
  readonly summary: string;
}

/**
 * Settings Scribe sets itself for its guarantees, or that a connect option covers: a value in
 * `config` would silently change them (a transaction id shared by two writers, a consumer
 * that reads aborted records), so it is refused, naming what to use instead.
 */
const ownedSettings: Readonly<Record<string, string>> = {
  'bootstrap.servers': 'the `brokers` option',
  'metadata.broker.list': 'the `brokers` option',
  'client.id': 'the `clientId` option',
  'transactional.id': 'nothing: Scribe gives each partition writer its own (`<store>.p<n>`), the fence of invariant I5',
  'enable.idempotence': 'nothing: every Scribe producer is idempotent',
  'enable.gapless.guarantee': 'nothing: Scribe producers are transactional or idempotent',
  acks: 'nothing: Scribe writes with acks=all',
  'request.required.acks': 'nothing: Scribe writes with acks=all',
  'max.in.flight.requests.per.connection': 'nothing: idempotence sets it',
  'max.in.flight': 'nothing: idempotence sets it',
  'isolation.level': 'nothing: Scribe reads committed records only',
  'transaction.timeout.ms': 'the `transactionTimeoutMs` option',
  'message.timeout.ms': 'the `transactionTimeoutMs` option (it bounds a record below the transaction)',
  'delivery.timeout.ms': 'the `transactionTimeoutMs` option (it bounds a record below the transaction)',
  'group.id': 'nothing: groups are named after the store (`<store>.writers`, subscription names)',
  'group.instance.id': 'nothing: writer ownership needs dynamic membership',
  'group.protocol': 'nothing: Scribe uses the classic protocol with cooperative-sticky assignment',
  'partition.assignment.strategy': 'nothing: writers use cooperative-sticky',
  'session.timeout.ms': 'the `sessionTimeoutMs` option',
  'heartbeat.interval.ms': 'the `sessionTimeoutMs` option',
  'max.poll.interval.ms': 'the `sessionTimeoutMs` option',
  'enable.auto.commit': 'nothing: Scribe commits offsets itself (in transactions for writers)',
  'enable.auto.offset.store': 'nothing: Scribe commits offsets itself',
  'auto.commit.enable': 'nothing: Scribe commits offsets itself',
  'auto.offset.reset': 'nothing: Scribe chooses where each reader starts',
  'enable.partition.eof': 'nothing: Scribe reads end offsets itself',
  'allow.auto.create.topics': 'nothing: Scribe creates its topics with their settings',
  'security.protocol': 'the `kafka.tls` and `kafka.sasl` options',
  'sasl.mechanism': 'the `kafka.sasl.mechanism` option',
  'sasl.mechanisms': 'the `kafka.sasl.mechanism` option',
  'sasl.username': 'the `kafka.sasl.username` option',
  'sasl.password': 'the `kafka.sasl.password` option',
  'ssl.ca.location': 'the `kafka.tls.ca` option',
  'ssl.ca.pem': 'the `kafka.tls.ca` option',
  'ssl.certificate.location': 'the `kafka.tls.cert` option',
  'ssl.certificate.pem': 'the `kafka.tls.cert` option',
  'ssl.key.location': 'the `kafka.tls.key` option',
  'ssl.key.pem': 'the `kafka.tls.key` option',
  'ssl.key.password': 'the `kafka.tls.keyPassword` option',
  'ssl.endpoint.identification.algorithm': 'the `kafka.tls.verifyHostname` option',
  'enable.ssl.certificate.verification': 'the `kafka.tls.ca` option (verification stays on)',
};

/** Setting names whose values are secrets: masked wherever settings are shown. */
const secretName = /pass(word)?|secret|token|(^|\.)key(\.pem|\.password)?$|jaas|credential|\.pem$/i;

export function isSecretSetting(name: string): boolean {
  return secretName.test(name) && !/location$/.test(name);
}

/** The settings with every secret replaced by `***`: safe to log or print. */
export function maskSecrets(settings: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, isSecretSetting(name) && value !== undefined ? '***' : value]));
}

function isPem(value: string): boolean {
  return value.trimStart().startsWith('-----BEGIN ');
}

function pemOrFile(value: unknown, argument: string, what: string): { pem: string } | { file: string } {
  if (typeof value !== 'string' || value.trim().length === 0) throw new InvalidArgumentError(argument, `must be a file name or PEM text (${what}), got ${isPemLike(value) ? 'PEM text' : describeValue(value)}`);
  if (isPem(value)) {
    if (!/-----END [A-Z0-9 ]+-----/.test(value)) throw new InvalidArgumentError(argument, 'is PEM text without its -----END ...----- line');
    return { pem: value };
  }
  if (value.includes('\u0000')) throw new InvalidArgumentError(argument, 'must not contain a NUL character');
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(value, { throwIfNoEntry: false });
  } catch (error) {
    throw new InvalidArgumentError(argument, `${JSON.stringify(value)} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!stat) throw new InvalidArgumentError(argument, `${JSON.stringify(value)} does not exist (give a file with ${what}, or the PEM text itself)`);
  if (!stat.isFile()) throw new InvalidArgumentError(argument, `${JSON.stringify(value)} is not a file`);
  try {
    const head = readFileSync(value, 'utf8').slice(0, 64 * 1024);
    if (!head.includes('-----BEGIN ')) throw new InvalidArgumentError(argument, `${JSON.stringify(value)} holds no PEM block (-----BEGIN ...); convert a JKS or PKCS#12 store with keytool or openssl`);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(argument, `${JSON.stringify(value)} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { file: value };
}

function isPemLike(value: unknown): boolean {
  return typeof value === 'string' && isPem(value);
}

function plainObject(value: unknown, argument: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError(argument, `must be an object, got ${describeValue(value)}`);
  try {
    return { ...(value as Record<string, unknown>) };
  } catch (error) {
    throw new InvalidArgumentError(argument, `could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A secret: a non-empty string, never shown in the refusal. */
function secret(value: unknown, argument: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(argument, `must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : value === null ? 'null' : typeof value}`);
  if (value.length > 64 * 1024) throw new InvalidArgumentError(argument, 'is longer than 65536 characters');
  return value;
}

function username(value: unknown, argument: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) throw new InvalidArgumentError(argument, `must be a non-empty string of at most 1024 characters, got ${describeValue(value)}`);
  if (/[\u0000-\u001f]/.test(value)) throw new InvalidArgumentError(argument, 'must not contain control characters');
  return value;
}

/**
 * Checks the `kafka` option and turns it into librdkafka settings. Every refusal names the
 * option (`kafka.tls.ca`, `kafka.config["acks"]`) and never shows a secret's value.
 */
export function validateKafkaSecurity(input: unknown, argument = 'kafka'): KafkaSecurity | undefined {
  if (input === undefined) return undefined;
  const options = plainObject(input, argument);
  for (const key of Object.keys(options)) {
    if (!['tls', 'sasl', 'config'].includes(key)) throw new InvalidArgumentError(`${argument}.${key}`, 'is not an option: the options are tls, sasl and config');
  }
  const settings: Record<string, string | number | boolean> = {};
  const summary: string[] = [];
  let tokenProvider: OAuthBearerTokenProvider | undefined;

  let sasl: SaslMechanism | undefined;
  if (options.sasl !== undefined) {
    const given = plainObject(options.sasl, `${argument}.sasl`);
    const mechanism = typeof given.mechanism === 'string' ? given.mechanism.toUpperCase() : given.mechanism;
    if (typeof mechanism !== 'string' || !(saslMechanisms as readonly string[]).includes(mechanism)) {
      throw new InvalidArgumentError(`${argument}.sasl.mechanism`, `must be one of ${saslMechanisms.join(', ')}, got ${describeValue(given.mechanism)}`);
    }
    sasl = mechanism as SaslMechanism;
    settings['sasl.mechanisms'] = sasl;
    if (sasl === 'OAUTHBEARER') {
      if (typeof given.tokenProvider !== 'function') {
        throw new InvalidArgumentError(`${argument}.sasl.tokenProvider`, `must be a function () => Promise<{ token, lifetimeMs, principal, extensions? }>, got ${describeValue(given.tokenProvider)}`);
      }
      for (const key of ['username', 'password']) if (given[key] !== undefined) throw new InvalidArgumentError(`${argument}.sasl.${key}`, 'is not used with OAUTHBEARER: the tokenProvider authenticates');
      tokenProvider = given.tokenProvider as OAuthBearerTokenProvider;
      summary.push('sasl OAUTHBEARER (token provider)');
    } else {
      const name = username(given.username, `${argument}.sasl.username`);
      settings['sasl.username'] = name;
      settings['sasl.password'] = secret(given.password, `${argument}.sasl.password`);
      if (given.tokenProvider !== undefined) throw new InvalidArgumentError(`${argument}.sasl.tokenProvider`, `is only used with OAUTHBEARER, not ${sasl}`);
      summary.push(`sasl ${sasl} as ${JSON.stringify(name)}`);
    }
  }

  // Every managed Kafka that asks for SASL asks for it over TLS: on unless turned off.
  const tls = options.tls === undefined ? sasl !== undefined : options.tls;
  if (typeof tls !== 'boolean') {
    const given = plainObject(tls, `${argument}.tls`);
    for (const key of Object.keys(given)) {
      if (!['ca', 'cert', 'key', 'keyPassword', 'verifyHostname'].includes(key)) throw new InvalidArgumentError(`${argument}.tls.${key}`, 'is not an option: the options are ca, cert, key, keyPassword and verifyHostname');
    }
    if (given.ca !== undefined) {
      const ca = pemOrFile(given.ca, `${argument}.tls.ca`, "the CA's certificate");
      if ('pem' in ca) settings['ssl.ca.pem'] = ca.pem;
      else settings['ssl.ca.location'] = ca.file;
      summary.push(`tls ca ${'pem' in ca ? '(PEM text)' : ca.file}`);
    }
    if ((given.cert === undefined) !== (given.key === undefined)) {
      throw new InvalidArgumentError(given.cert === undefined ? `${argument}.tls.cert` : `${argument}.tls.key`, 'mutual TLS needs both tls.cert and tls.key');
    }
    if (given.cert !== undefined) {
      const cert = pemOrFile(given.cert, `${argument}.tls.cert`, "the client's certificate");
      if ('pem' in cert) settings['ssl.certificate.pem'] = cert.pem;
      else settings['ssl.certificate.location'] = cert.file;
      const key = pemOrFile(given.key, `${argument}.tls.key`, "the client certificate's private key");
      if ('pem' in key) settings['ssl.key.pem'] = key.pem;
      else settings['ssl.key.location'] = key.file;
      summary.push('tls client certificate');
    }
    if (given.keyPassword !== undefined) {
      if (given.key === undefined) throw new InvalidArgumentError(`${argument}.tls.keyPassword`, 'needs tls.key');
      settings['ssl.key.password'] = secret(given.keyPassword, `${argument}.tls.keyPassword`);
    }
    if (given.verifyHostname !== undefined && typeof given.verifyHostname !== 'boolean') {
      throw new InvalidArgumentError(`${argument}.tls.verifyHostname`, `must be true or false, got ${describeValue(given.verifyHostname)}`);
    }
    const verify = given.verifyHostname !== false;
    settings['ssl.endpoint.identification.algorithm'] = verify ? 'https' : 'none';
    if (!verify) summary.push('tls without host name verification');
  }
  const encrypted = tls !== false;
  if (encrypted && typeof tls === 'boolean') settings['ssl.endpoint.identification.algorithm'] = 'https';
  settings['security.protocol'] = sasl ? (encrypted ? 'SASL_SSL' : 'SASL_PLAINTEXT') : encrypted ? 'SSL' : 'PLAINTEXT';
  summary.unshift(String(settings['security.protocol']));

  if (options.config !== undefined) {
    const config = plainObject(options.config, `${argument}.config`);
    for (const [name, value] of Object.entries(config)) {
      const at = `${argument}.config[${JSON.stringify(name)}]`;
      if (!/^[a-z0-9._]{1,200}$/.test(name)) throw new InvalidArgumentError(at, 'is not a librdkafka setting name (lower-case words joined by dots)');
      const owner = ownedSettings[name];
      if (owner !== undefined) throw new InvalidArgumentError(at, `is set by Scribe and cannot be passed through; use ${owner}`);
      if (name.endsWith('_cb') || name === 'opaque') throw new InvalidArgumentError(at, 'callbacks are set by Scribe and cannot be passed through');
      if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
        throw new InvalidArgumentError(at, `must be a string, a finite number or a boolean, got ${isSecretSetting(name) ? typeof value : describeValue(value)}`);
      }
      settings[name] = value;
    }
    if (Object.keys(config).length > 0) summary.push(`config ${Object.keys(config).join(', ')}`);
    checkWithLibrdkafka(settings, `${argument}.config`);
  }
  return { settings, summary: summary.join(', '), ...(tokenProvider ? { tokenProvider } : {}) };
}

/**
 * librdkafka refuses an unknown setting or a bad value only when a client is made: made here
 * (never connected) so the connect refuses it up front, naming the setting.
 */
function checkWithLibrdkafka(settings: Record<string, string | number | boolean>, argument: string): void {
  const config = { ...settings, 'bootstrap.servers': '127.0.0.1:9', 'group.id': 'scribe-config-check' };
  for (const make of [() => new rdkafka.Producer(config), () => new rdkafka.KafkaConsumer(config, {})]) {
    try {
      make();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const named = /property:? "([^"]+)"/.exec(message)?.[1];
      const shown = Object.entries(settings).reduce((text, [name, value]) => (isSecretSetting(name) && typeof value === 'string' && value.length > 0 ? text.split(value).join('***') : text), message);
      throw new InvalidArgumentError(named ? `${argument}[${JSON.stringify(named)}]` : argument, `librdkafka refuses it: ${shown}`);
    }
  }
}

/** The librdkafka settings and callbacks for a client of this security. */
export function securitySettings(security: KafkaSecurity | undefined): Record<string, unknown> {
  if (!security) return {};
  const provider = security.tokenProvider;
  if (!provider) return { ...security.settings };
  return {
    ...security.settings,
    // The binding accepts a promise from the callback and hands the token to librdkafka; a
    // lifetime is an absolute time there, a duration in Scribe's provider.
    oauthbearer_token_refresh_cb: async () => {
      const token = await provider();
      checkToken(token);
      return { tokenValue: token.token, lifetime: Date.now() + token.lifetimeMs, principal: token.principal, ...(token.extensions ? { extensions: { ...token.extensions } } : {}) };
    },
  };
}

function checkToken(token: unknown): asserts token is OAuthBearerToken {
  const given = token as Partial<OAuthBearerToken> | null;
  if (typeof given !== 'object' || given === null) throw new Error(`the token provider returned ${describeValue(token)}, not { token, lifetimeMs, principal }`);
  if (typeof given.token !== 'string' || given.token.length === 0) throw new Error('the token provider returned no token (a non-empty string)');
  if (typeof given.lifetimeMs !== 'number' || !Number.isFinite(given.lifetimeMs) || given.lifetimeMs <= 0) throw new Error(`the token provider returned lifetimeMs ${describeValue(given.lifetimeMs)}: a positive number of ms`);
  if (typeof given.principal !== 'string') throw new Error('the token provider returned no principal (a string)');
}
