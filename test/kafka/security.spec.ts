// The `kafka` connect option, the KAFKA_* environment and client properties files: checked
// before anything connects, refusals name the setting and never show a secret.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import { maskSecrets, securityFromEnvironment, validateKafkaSecurity } from '../../src/kafka/index.js';
import { parseProperties, securityFromProperties } from '../../src/kafka/security-sources.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('the kafka option', () => {
  it('SASL turns TLS on by default (SASL_SSL) and checks host names', () => {
    const security = validateKafkaSecurity({ sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p-secret' } })!;
    expect(security.settings).toMatchObject({ 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'SCRAM-SHA-512', 'ssl.endpoint.identification.algorithm': 'https' });
    expect(security.summary).not.toContain('p-secret');
    expect(validateKafkaSecurity({ tls: false, sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' } })!.settings['security.protocol']).toBe('SASL_PLAINTEXT');
    expect(validateKafkaSecurity({ tls: { ca: pem } })!.settings).toMatchObject({ 'security.protocol': 'SSL', 'ssl.ca.pem': pem });
  });

  it.each(['transactional.id', 'enable.idempotence', 'isolation.level', 'acks', 'group.id', 'bootstrap.servers', 'sasl.password', 'security.protocol'])('refuses the owned setting %s in config, naming it', (key) => {
    expect(() => validateKafkaSecurity({ config: { [key]: 'x' } })).toThrow(new RegExp(`kafka\\.config\\["${key.replace(/\./g, '\\.')}"\\]: is set by Scribe`));
  });

  it('refuses unknown settings and bad values as librdkafka would, without the secret', () => {
    expect(() => validateKafkaSecurity({ config: { 'no.such.setting': 1 } })).toThrow(/kafka\.config\["no\.such\.setting"\]/);
    expect(() => validateKafkaSecurity({ sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 42 } })).toThrow(InvalidArgumentError);
    expect(() => validateKafkaSecurity({ sasl: { mechanism: 'GSSAPI', username: 'u', password: 'p' } })).toThrow(/kafka\.sasl\.mechanism/);
    expect(() => validateKafkaSecurity({ sasl: { mechanism: 'OAUTHBEARER' } })).toThrow(/kafka\.sasl\.tokenProvider/);
    expect(() => validateKafkaSecurity({ tls: { ca: '/no/such/ca.pem' } })).toThrow(/kafka\.tls\.ca: "\/no\/such\/ca\.pem" does not exist/);
    expect(() => validateKafkaSecurity({ tls: { cert: pem } })).toThrow(/kafka\.tls\.key: mutual TLS needs both/);
  });

  it('masks secrets wherever settings are shown', () => {
    expect(maskSecrets({ 'sasl.password': 'x', 'ssl.key.pem': 'k', 'ssl.ca.location': '/ca.pem', 'sasl.username': 'u' })).toEqual({ 'sasl.password': '***', 'ssl.key.pem': '***', 'ssl.ca.location': '/ca.pem', 'sasl.username': 'u' });
  });
});

describe('the environment and properties files', () => {
  it('reads KAFKA_SASL_* and KAFKA_TLS_*', () => {
    const found = securityFromEnvironment({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_TLS_CA: pem });
    expect(found?.options).toEqual({ sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' }, tls: { ca: pem } });
    expect(securityFromEnvironment({})).toBeUndefined();
    expect(() => securityFromEnvironment({ KAFKA_SASL_USERNAME: 'u' })).toThrow(/KAFKA_SASL_MECHANISM/);
  });

  it("reads a Confluent Cloud client.properties (the Java client's names) with its brokers", () => {
    const text = [
      '# Required connection configs for Kafka producer, consumer, and admin',
      'bootstrap.servers=pkc-123.eu-west-1.aws.confluent.cloud:9092',
      'security.protocol=SASL_SSL',
      'sasl.mechanisms=PLAIN',
      "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='KEY' password='SECRET';".replace(/'/g, '"'),
      'session.timeout.ms=45000',
      'client.dns.lookup=use_all_dns_ips',
    ].join('\n');
    const found = securityFromProperties(parseProperties(text), 'test');
    expect(found.brokers).toEqual(['pkc-123.eu-west-1.aws.confluent.cloud:9092']);
    expect(found.options).toEqual({ sasl: { mechanism: 'PLAIN', username: 'KEY', password: 'SECRET' }, tls: true });
    expect(validateKafkaSecurity(found.options)!.settings['security.protocol']).toBe('SASL_SSL');
  });
});
