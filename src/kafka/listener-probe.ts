// Tells a client without TLS that the listener it reached speaks TLS: librdkafka sees the broker
// close the connection at once and logs it at info level only, the call just times out
// (docs/decisions/0027-plain-client-at-a-tls-listener.md).
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TlsError } from './errors.js';
import type { KafkaSecurity } from './security.js';

/** How long a client's first call runs before the bootstrap addresses are probed. */
export const probeAfterMs = 2_000;
/** The bound of one probe: a TLS handshake on a reachable listener takes milliseconds. */
const probeTimeoutMs = 3_000;

/** Whether the client's connections go without TLS (PLAINTEXT or SASL_PLAINTEXT). */
export function withoutTls(security: KafkaSecurity | undefined): boolean {
  return !/SSL$/.test(String(security?.settings['security.protocol'] ?? 'PLAINTEXT'));
}

/**
 * Whether `host:port` completes a TLS handshake (or answers with a TLS alert, e.g. a listener
 * that asks for a client certificate). Resolves within the probe's bound; no certificate is
 * trusted or sent, nothing is written after the handshake.
 */
export function speaksTls(address: string, timeoutMs = probeTimeoutMs): Promise<boolean> {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!match) return Promise.resolve(false);
  const host = match[1]!;
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port: Number(match[2]), rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    const done = (tls: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(tls);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', (error: Error & { code?: string }) => done(/alert/i.test(`${error.code ?? ''} ${error.message}`)));
  });
}

/**
 * Races a plain client's calls against a probe of its bootstrap addresses, until one call has
 * succeeded: a call still running after `probeAfterMs`, or failing, starts the probe (once per
 * client), and an address that speaks TLS ends the call with TlsError (`protocol-mismatch`),
 * naming the address and the fix.
 */
export class PlainListenerCheck {
  private reached = false;
  private probe: Promise<string | undefined> | undefined;

  constructor(
    private readonly name: string,
    private readonly brokers: readonly string[],
    private readonly protocol: string,
    private readonly afterMs = probeAfterMs,
  ) {}

  race<T>(call: Promise<T>): Promise<T> {
    if (this.reached) return call;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (end: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        end();
      };
      const mismatch = () =>
        this.tlsListener().then((address) => {
          if (address) settle(() => reject(this.failure(address)));
          return address;
        });
      const timer = setTimeout(() => void mismatch(), this.afterMs);
      call.then(
        (value) => {
          this.reached = true;
          settle(() => resolve(value));
        },
        (error: unknown) => {
          // A refused or timed-out call may be the same mismatch: the probe says before the error is told.
          void mismatch().then((address) => address === undefined && settle(() => reject(error)));
        },
      );
    });
  }

  private tlsListener(): Promise<string | undefined> {
    this.probe ??= Promise.all(this.brokers.map(async (address) => ((await speaksTls(address)) ? address : undefined))).then((found) => found.find((address) => address !== undefined));
    return this.probe;
  }

  private failure(address: string): TlsError {
    return new TlsError(
      this.name,
      'protocol-mismatch',
      `the listener at ${address} speaks TLS and this client connects without it (security.protocol ${this.protocol}): turn TLS on with kafka.tls (true, or { ca } for a private CA; KAFKA_TLS=true or KAFKA_TLS_CA; the CLI's --tls or --tls-ca), with kafka.sasl too if the listener is SASL_SSL`,
    );
  }
}

/** The check for a client of this connection: none for a TLS client. */
export function plainListenerCheck(name: string, brokers: readonly string[], security: KafkaSecurity | undefined): PlainListenerCheck | undefined {
  return withoutTls(security) ? new PlainListenerCheck(name, brokers, String(security?.settings['security.protocol'] ?? 'PLAINTEXT')) : undefined;
}
