// Tells why a secured client's calls fail: librdkafka reports a refused password or an untrusted
// certificate only in its log, the failing call says "broker transport failure" or times out
// (docs/decisions/0014-connection-security.md).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { kafkaErrorCodes, securityFailureOf, TlsError, type KafkaOperationError } from './errors.js';
import type { KafkaSecurity } from './security.js';

/**
 * A watch for a client of a secured connection; none for a plaintext one, whose calls keep
 * their plain path (there is no credential or certificate to be refused).
 */
export function securityWatch(name: string, security: KafkaSecurity | undefined): SecurityWatch | undefined {
  return security ? new SecurityWatch(name, security) : undefined;
}

type Emitter = { on(event: string, listener: (error: { message: string; code?: number }) => void): unknown };

/**
 * Watches one client's error events for a security failure. librdkafka reports a refused
 * password or certificate only there (the failing call itself says "broker transport
 * failure" or times out): the client's calls end at once with the classified error instead.
 */
export class SecurityWatch {
  private seen: KafkaOperationError | undefined;
  /** A failure that only explains a call that failed anyway (it also happens while a broker restarts). */
  private hint: KafkaOperationError | undefined;
  private readonly waiters = new Set<(failure: KafkaOperationError) => void>();
  private probing = false;

  constructor(
    private readonly name: string,
    private readonly security?: KafkaSecurity,
  ) {}

  /** The client's error events, and its 'error' emissions (a failed token refresh), feed this watch. */
  watch(client: Emitter): void {
    for (const [event, listener] of Object.entries(this.handlers())) client.on(event, listener);
  }

  /** The same as event handlers, for `AdminClient.create`. */
  handlers(): Record<string, (error: { message: string; code?: number }) => void> {
    return {
      'event.error': (error) => this.saw(error),
      // librdkafka logs a refused password or certificate at level 3; the error event may never come.
      'event.log': (entry) => this.saw({ message: String(entry.message), code: 0 }),
      // Without a listener an 'error' emission would be an uncaught exception.
      error: (error) => this.saw({ message: `OAUTHBEARER token refresh failed: ${error.message}`, code: kafkaErrorCodes.ERR__AUTHENTICATION }),
    };
  }

  /** The last security failure seen since the last call that succeeded. */
  get failure(): KafkaOperationError | undefined {
    return this.seen ?? this.hint;
  }

  /** A call succeeded: whatever was seen before is over (a rotated password, a new token). */
  succeeded(): void {
    this.seen = undefined;
    this.hint = undefined;
  }

  /** Resolves with the first security failure seen from now on; `cancel` stops waiting. */
  next(): { failure: Promise<KafkaOperationError>; cancel(): void } {
    let wake: ((failure: KafkaOperationError) => void) | undefined;
    const failure = new Promise<KafkaOperationError>((resolve) => {
      wake = resolve;
      this.waiters.add(resolve);
    });
    if (this.seen) wake!(this.seen);
    return { failure, cancel: () => this.waiters.delete(wake!) };
  }

  private saw(error: { message: string; code?: number }): void {
    const message = String(error.message);
    const tls = this.security !== undefined && /SSL$/.test(String(this.security.settings['security.protocol']));
    if (!tls && /Disconnected.*in state APIVERSION_QUERY/.test(message)) {
      // A plain client at a TLS listener is cut off right after connecting. librdkafka logs it at
      // info level, seen only with a log_level raised through kafka.config; otherwise the
      // admin client's PlainListenerCheck tells it (decision 0027).
      this.hint = new TlsError(this.name, 'protocol-mismatch', message);
      return;
    }
    const failure = securityFailureOf(this.name, { message, code: error.code ?? 0 });
    if (!failure) return;
    const address = /ssl:\/\/(\[[^\]]+\]|[^:/]+):(\d+)/.exec(message);
    if (failure instanceof TlsError && failure.failure === 'unknown-ca' && address && !this.probing) {
      // librdkafka says "certificate verify failed" for an unknown CA and a wrong host name alike.
      this.probing = true;
      void certificateProblem(address[1]!.replace(/^\[|\]$/g, ''), Number(address[2]), this.security).then((problem) => {
        this.probing = false;
        this.publish(problem === 'hostname-mismatch' ? new TlsError(this.name, 'hostname-mismatch', message) : failure);
      });
      return;
    }
    if (this.probing) return;
    this.publish(failure);
  }

  private publish(failure: KafkaOperationError): void {
    this.seen = failure;
    for (const wake of this.waiters) wake(failure);
    this.waiters.clear();
  }
}

/**
 * Tells a certificate signed by an unknown CA from one that names another host, with Node's
 * TLS (the same CA, the same host): librdkafka reports both as "certificate verify failed".
 */
function certificateProblem(host: string, port: number, security: KafkaSecurity | undefined): Promise<'unknown-ca' | 'hostname-mismatch' | undefined> {
  const settings = security?.settings ?? {};
  let ca: string | undefined;
  try {
    ca = typeof settings['ssl.ca.pem'] === 'string' ? settings['ssl.ca.pem'] : typeof settings['ssl.ca.location'] === 'string' ? readFileSync(settings['ssl.ca.location'], 'utf8') : undefined;
  } catch {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...(ca ? { ca } : {}), ...(isIP(host) ? {} : { servername: host }) });
    const done = (problem: 'unknown-ca' | 'hostname-mismatch' | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(3_000, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('secureConnect', () => {
      // Node checks the name as part of `authorized`; checked again for a chain that verifies.
      const certificate: PeerCertificate = socket.getPeerCertificate();
      if (String(socket.authorizationError) === 'ERR_TLS_CERT_ALTNAME_INVALID') return done('hostname-mismatch');
      if (!socket.authorized) return done('unknown-ca');
      done(checkServerIdentity(host, certificate) ? 'hostname-mismatch' : undefined);
    });
  });
}
