// ACLs of a secured cluster: list, grant and revoke them with an administrator's connection.
// librdkafka's binding has no ACL calls, so these go through kafkajs's admin client, given the
// same connection settings (TLS, SASL) as every other Scribe client.
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import type { KafkaConnection } from './config.js';
import { kafkaErrorCodes, AuthorizationError, type AclResourceType } from './errors.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs;

export interface Acl {
  readonly principal: string;
  readonly resourceType: AclResourceType;
  readonly patternType: 'PREFIXED' | 'LITERAL';
  readonly name: string;
  readonly operation: string;
  /** Default '*'. */
  readonly host?: string;
}

const resourceTypes: Record<AclResourceType, number> = {
  TOPIC: AclResourceTypes.TOPIC,
  GROUP: AclResourceTypes.GROUP,
  TRANSACTIONAL_ID: AclResourceTypes.TRANSACTIONAL_ID,
  CLUSTER: AclResourceTypes.CLUSTER,
};

function operationCode(name: string): number {
  const code = (AclOperationTypes as unknown as Record<string, number>)[name];
  if (code === undefined) throw new Error(`unknown ACL operation ${name}`);
  return code;
}

function pem(settings: Readonly<Record<string, unknown>>, inline: string, file: string): string | undefined {
  const text = settings[inline];
  if (typeof text === 'string') return text;
  const path = settings[file];
  return typeof path === 'string' ? readFileSync(path, 'utf8') : undefined;
}

/** The kafkajs client settings for the same connection librdkafka's clients use. */
function kafkajsClient(connection: KafkaConnection): InstanceType<typeof Kafka> {
  const security = connection.security;
  const settings = security?.settings ?? {};
  const protocol = String(settings['security.protocol'] ?? 'PLAINTEXT');
  const tls = protocol.endsWith('SSL');
  const mechanism = String(settings['sasl.mechanisms'] ?? '').toLowerCase();
  const ca = pem(settings, 'ssl.ca.pem', 'ssl.ca.location');
  const cert = pem(settings, 'ssl.certificate.pem', 'ssl.certificate.location');
  const key = pem(settings, 'ssl.key.pem', 'ssl.key.location');
  const ssl = tls
    ? {
        ...(ca ? { ca: [ca] } : {}),
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
        ...(typeof settings['ssl.key.password'] === 'string' ? { passphrase: settings['ssl.key.password'] } : {}),
        ...(settings['ssl.endpoint.identification.algorithm'] === 'none' ? { checkServerIdentity: () => undefined } : {}),
      }
    : undefined;
  let sasl: kafkajs.SASLOptions | undefined;
  if (protocol.startsWith('SASL_')) {
    if (mechanism === 'oauthbearer') {
      const provider = security?.tokenProvider;
      if (!provider) throw new Error('OAUTHBEARER without a token provider');
      sasl = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: (await provider()).token }) };
    } else {
      sasl = { mechanism: mechanism as 'plain', username: String(settings['sasl.username']), password: String(settings['sasl.password']) };
    }
  }
  return new Kafka({
    clientId: `${connection.clientId ?? 'scribe'}-acls`,
    brokers: [...connection.brokers],
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 10_000,
    requestTimeout: 15_000,
    retry: { retries: 2 },
    logLevel: logLevel.NOTHING,
  });
}

function filterOf(acl: Acl) {
  return {
    resourceType: resourceTypes[acl.resourceType],
    resourceName: acl.name,
    resourcePatternType: acl.patternType === 'PREFIXED' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal: acl.principal,
    host: acl.host ?? '*',
    operation: operationCode(acl.operation),
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/** Runs `work` with a connected kafkajs admin; refusals of the ACL calls become AuthorizationError. */
async function withAdmin<T>(connection: KafkaConnection, work: (admin: kafkajs.Admin) => Promise<T>): Promise<T> {
  const admin = kafkajsClient(connection).admin();
  await admin.connect();
  try {
    return await work(admin);
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'CLUSTER_AUTHORIZATION_FAILED' || type === 'SECURITY_DISABLED') {
      throw new AuthorizationError(
        'acls',
        { message: (error as Error).message, code: kafkaErrorCodes.ERR_CLUSTER_AUTHORIZATION_FAILED, errno: 0, origin: 'kafkajs' },
        'CLUSTER',
        'ALTER',
        'kafka-cluster',
      );
    }
    throw error;
  } finally {
    await admin.disconnect();
  }
}

/** Grants the ACLs (ALLOW); granting one that exists is a no-op. */
export function createAcls(connection: KafkaConnection, acls: readonly Acl[]): Promise<void> {
  return withAdmin(connection, async (admin) => {
    await admin.createAcls({ acl: acls.map(filterOf) });
  });
}

/** Revokes exactly these ACLs. */
export function deleteAcls(connection: KafkaConnection, acls: readonly Acl[]): Promise<void> {
  return withAdmin(connection, async (admin) => {
    await admin.deleteAcls({ filters: acls.map(filterOf) });
  });
}

/** The ALLOW ACLs of a principal, as `describeAcls` answers them. */
export function describeAcls(connection: KafkaConnection, principal: string): Promise<Acl[]> {
  return withAdmin(connection, async (admin) => {
    const answer = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal,
      host: '*',
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ALLOW,
    } as Parameters<kafkajs.Admin['describeAcls']>[0]);
    const typeName = (code: number) => (Object.entries(resourceTypes).find(([, value]) => value === code)?.[0] ?? String(code)) as AclResourceType;
    const operationName = (code: number) => Object.entries(AclOperationTypes as unknown as Record<string, number>).find(([, value]) => value === code)?.[0] ?? String(code);
    return answer.resources.flatMap((resource) =>
      resource.acls.map((acl) => ({
        principal: acl.principal,
        resourceType: typeName(resource.resourceType),
        patternType: resource.resourcePatternType === ResourcePatternTypes.PREFIXED ? ('PREFIXED' as const) : ('LITERAL' as const),
        name: resource.resourceName,
        operation: operationName(acl.operation),
        host: acl.host,
      })),
    );
  });
}

/**
 * Fails with AuthorizationError (GROUP, READ) when the principal may not use the group: a
 * member could never join it, and librdkafka only retries in silence. Asked with kafkajs: the
 * binding's describeGroups crashes the process on a group it may not describe.
 */
export async function checkGroupAccess(connection: KafkaConnection, groupId: string): Promise<void> {
  const admin = kafkajsClient(connection).admin();
  await admin.connect();
  try {
    await admin.describeGroups([groupId]);
  } catch (error) {
    // kafkajs drops the broker's GROUP_AUTHORIZATION_FAILED from FindCoordinator and says only
    // that no broker knew a coordinator (a cluster that is merely starting answers "not
    // available", which it retries): both are taken as the missing ACL.
    const refused = (error as { type?: string }).type === 'GROUP_AUTHORIZATION_FAILED' || (error as Error).name === 'KafkaJSGroupCoordinatorNotFound';
    if (refused) {
      throw new AuthorizationError('joinGroup', { message: (error as Error).message, code: kafkaErrorCodes.ERR_GROUP_AUTHORIZATION_FAILED, errno: 0, origin: 'kafkajs' }, 'GROUP', 'READ', groupId);
    }
    throw error;
  } finally {
    await admin.disconnect();
  }
}
