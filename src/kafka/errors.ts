// Classifies every error that comes out of librdkafka once, so that callers read flags
// (retriable, abortable, fenced, fatal) instead of matching numeric codes.
import rdkafka, { type LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { ScribeError } from '../errors.js';

const codes = rdkafka.CODES.ERRORS;

/** Codes that mean "a newer producer with this transactional.id exists": this one is a zombie. */
const fencedCodes = new Set<number>([codes.ERR__FENCED, codes.ERR_PRODUCER_FENCED, codes.ERR_INVALID_PRODUCER_EPOCH]);

/**
 * Codes after which the outcome of a produce or commit is not known: the write may or may
 * not have happened (KAFKA-13574: NOT_LEADER_OR_FOLLOWER and timeouts are not definite).
 */
const indefiniteCodes = new Set<number>([
  codes.ERR__TIMED_OUT,
  codes.ERR__TIMED_OUT_QUEUE,
  codes.ERR_REQUEST_TIMED_OUT,
  codes.ERR__MSG_TIMED_OUT,
  codes.ERR__TRANSPORT,
]);

export class KafkaOperationError extends ScribeError {
  /** `KAFKA_ERROR`; the security subclasses below have their own codes. */
  readonly code: string = 'KAFKA_ERROR';
  /** librdkafka's numeric error code (negative: client-side, positive: broker). */
  readonly kafkaCode: number;
  override readonly retriable: boolean;
  /** The current transaction must be aborted; the producer itself stays usable. */
  readonly abortable: boolean;
  /** A newer instance owns this transactional.id; this producer can never write again. */
  readonly fenced: boolean;
  /** The client is unusable and must be destroyed. */
  readonly fatal: boolean;
  /** The operation may or may not have taken effect. */
  readonly indefinite: boolean;

  constructor(
    readonly operation: string,
    error: LibrdKafkaError,
    message = `${operation} failed: ${error.message} (librdkafka code ${error.code})`,
    options: { cause?: unknown } = { cause: error },
  ) {
    super(message, options);
    this.kafkaCode = error.code;
    this.fenced = fencedCodes.has(error.code);
    this.abortable = error.isTxnRequiresAbort === true;
    this.retriable = error.isRetriable === true;
    // librdkafka's guidance: an error with no flag set is to be treated as fatal for a
    // transactional producer; callers that are not transactional read `retriable` only.
    this.fatal = error.isFatal === true || this.fenced;
    this.indefinite = indefiniteCodes.has(error.code);
  }
}

/** Wraps a librdkafka error (or passes a Scribe error through) with the operation's name. */
/** `resources` names what the call touches, for an AuthorizationError to name the refused one. */
export function kafkaError(operation: string, error: unknown, resources?: CallResources): ScribeError {
  if (error instanceof ScribeError) return error;
  if (isLibrdKafkaError(error)) return classifySecurityError(operation, error, resources) ?? new KafkaOperationError(operation, error);
  const message = error instanceof Error ? error.message : String(error);
  return new KafkaOperationError(operation, { message, code: codes.ERR_UNKNOWN, errno: codes.ERR_UNKNOWN, origin: 'scribe' });
}

function isLibrdKafkaError(error: unknown): error is LibrdKafkaError {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && 'message' in error;
}

export { codes as kafkaErrorCodes };

export const resourceTypes = ['TOPIC', 'GROUP', 'TRANSACTIONAL_ID', 'CLUSTER'] as const;
export type AclResourceType = (typeof resourceTypes)[number];
/** The resources a call touches, by type. */
export type CallResources = Partial<Readonly<Record<AclResourceType, string>>>;

const resourceOfCode = new Map<number, AclResourceType>([
  [codes.ERR_TOPIC_AUTHORIZATION_FAILED, 'TOPIC'],
  [codes.ERR_GROUP_AUTHORIZATION_FAILED, 'GROUP'],
  [codes.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'TRANSACTIONAL_ID'],
  [codes.ERR_CLUSTER_AUTHORIZATION_FAILED, 'CLUSTER'],
]);

/** The ACL operation a Scribe call needs on the resource the broker refused. */
function aclOperationOf(operation: string, resourceType: AclResourceType): string {
  if (resourceType === 'TRANSACTIONAL_ID') return 'WRITE';
  if (resourceType === 'GROUP') return /describeGroups/.test(operation) ? 'DESCRIBE' : 'READ';
  if (/createTopic/.test(operation)) return 'CREATE';
  if (/createPartitions/.test(operation)) return 'ALTER';
  if (/deleteRecords|deleteTopic/.test(operation)) return 'DELETE';
  if (/produce|commitTransaction|send/.test(operation)) return 'WRITE';
  if (/consume|fetch|assign|subscribe|committed|commit/.test(operation)) return 'READ';
  return 'DESCRIBE';
}

/** Where the README's ACL table is: every security error's message ends with its fix. */
const aclHint = 'grant it (`scribe acls --store <store> --principal User:<name> --role writer|reader|admin` prints what each role needs)';

/**
 * The broker refused the principal an operation on a resource (a missing ACL). Nothing was
 * done by the refused request. Not retriable: the same call fails until an ACL is granted.
 */
export class AuthorizationError extends KafkaOperationError {
  override readonly code: string = 'AUTHORIZATION_FAILED';
  constructor(
    operation: string,
    error: LibrdKafkaError,
    /** The kind of resource refused. */
    readonly resourceType: AclResourceType,
    /** The ACL operation that was refused (READ, WRITE, CREATE, ALTER, DESCRIBE, ...). */
    readonly aclOperation: string,
    /** The resource's name when Scribe knows it (a topic, a group, a transactional id). */
    readonly resource: string | undefined,
    /** What the broker refused, when it is not the operation itself (a producer id). */
    detail?: string,
  ) {
    super(operation, error, `${operation}: not authorized to ${aclOperation} ${resourceType} ${resource ?? '(name not reported by the broker)'} (librdkafka code ${error.code}${detail ? `; ${detail}` : ''}): ${aclHint}`);
  }
}

/** The brokers refused the credentials (a wrong user or password, an expired or refused token). */
export class AuthenticationError extends KafkaOperationError {
  override readonly code: string = 'AUTHENTICATION_FAILED';
  constructor(operation: string, detail: string, options: { cause?: unknown } = {}) {
    super(
      operation,
      { message: detail, code: codes.ERR__AUTHENTICATION, errno: codes.ERR__AUTHENTICATION, origin: 'scribe' },
      `${operation}: the brokers refused the credentials: ${detail}. Check kafka.sasl (or KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD): the user, its password or token, and the mechanism the cluster expects`,
      options,
    );
  }
}

export const tlsFailures = ['unknown-ca', 'hostname-mismatch', 'protocol-mismatch', 'handshake'] as const;
export type TlsFailure = (typeof tlsFailures)[number];

const tlsFixes: Record<TlsFailure, string> = {
  'unknown-ca': "the broker's certificate is not signed by a CA this client trusts: give the cluster's CA with kafka.tls.ca (or KAFKA_TLS_CA)",
  'hostname-mismatch': "the broker's certificate does not name the host connected to: use a broker address its certificate names (the advertised listener), or for a test cluster only kafka.tls.verifyHostname: false",
  'protocol-mismatch': 'the listener does not speak what this client does (TLS to a plain listener, or plain to a TLS one): check kafka.tls and kafka.sasl against the listener\'s security.protocol and port',
  handshake: 'the TLS handshake failed: check kafka.tls (CA, client certificate and key) against the listener',
};

/** The TLS connection to the brokers could not be made safely. */
export class TlsError extends KafkaOperationError {
  override readonly code: string = 'TLS_FAILED';
  constructor(
    operation: string,
    /** Which check failed. */
    readonly failure: TlsFailure,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(operation, { message: detail, code: codes.ERR__SSL, errno: codes.ERR__SSL, origin: 'scribe' }, `${operation}: ${tlsFixes[failure]} (${detail})`, options);
  }
}

/** Security failures told apart by librdkafka's message: -195 carries SASL and TLS failures alike. */
export function securityFailureOf(operation: string, error: { message: string; code: number }): AuthenticationError | TlsError | undefined {
  const message = error.message;
  if (error.code === codes.ERR__AUTHENTICATION || error.code === codes.ERR_SASL_AUTHENTICATION_FAILED || /SASL authentication error|Authentication failed|invalid credentials|oauthbearer_token_refresh_cb|OAUTHBEARER token/i.test(message)) {
    return new AuthenticationError(operation, message.replace(/\s+\(after \d+ms in state \w+\)/, ''));
  }
  if (/hostname mismatch|certificate does not match|Hostname mismatch/i.test(message)) return new TlsError(operation, 'hostname-mismatch', message);
  if (/certificate verify failed|unable to get (local )?issuer certificate|self[- ]signed certificate|broker certificate could not be verified/i.test(message)) return new TlsError(operation, 'unknown-ca', message);
  if (/connecting to a SSL listener|wrong version number|packet length too long|incorrect security\.protocol/i.test(message)) {
    return new TlsError(operation, 'protocol-mismatch', message);
  }
  if (error.code === codes.ERR__SSL || /SSL handshake failed/i.test(message)) return new TlsError(operation, 'handshake', message);
  return undefined;
}

function classifySecurityError(operation: string, error: LibrdKafkaError, resources: CallResources | undefined): KafkaOperationError | undefined {
  const resourceType = resourceOfCode.get(error.code);
  if (resourceType) return new AuthorizationError(operation, error, resourceType, aclOperationOf(operation, resourceType), resources?.[resourceType]);
  return securityFailureOf(operation, error);
}
