// The ACLs each kind of Scribe process needs on a secured cluster, one prefix per store, and the
// check at connect that the principal has them on the store's topics (a missing ACL fails the
// connect naming it, instead of a writer that never starts). docs/decisions/0015-acls.md.
import { withTimeout } from '../errors.js';
import { AuthorizationError, checkGroupAccess, KafkaProducer, kafkaErrorCodes, type AclResourceType, type KafkaAdmin, type KafkaConnection } from '../kafka/index.js';
import type { StoreTopics } from './topics.js';

export const roles = ['writer', 'reader', 'admin'] as const;
export type Role = (typeof roles)[number];

export interface AclEntry {
  readonly resourceType: AclResourceType;
  readonly patternType: 'PREFIXED' | 'LITERAL';
  /** The resource name, or its prefix. */
  readonly name: string;
  /** The ACL operation allowed. */
  readonly operation: 'READ' | 'WRITE' | 'CREATE' | 'ALTER' | 'DESCRIBE' | 'DESCRIBE_CONFIGS';
  /** What Scribe does with it. */
  readonly why: string;
}

/**
 * The least ACLs of a role on store `store`. Every topic, group and transactional id of a store
 * starts with `<store>.`, so one prefix covers a store and nothing of another store (unless one
 * store's name is another's followed by a dot: `bank` covers `bank.eu`; name stores apart).
 */
export function aclsFor(store: string, role: Role): AclEntry[] {
  const prefix = `${store}.`;
  const reader: AclEntry[] = [
    { resourceType: 'TOPIC', patternType: 'PREFIXED', name: prefix, operation: 'READ', why: 'read events, snapshots, the routing log and replies (READ implies DESCRIBE)' },
    { resourceType: 'GROUP', patternType: 'PREFIXED', name: `${store}.events.subscription.`, operation: 'READ', why: 'named subscriptions: join their group and commit their checkpoints' },
  ];
  const writer: AclEntry[] = [
    { resourceType: 'TOPIC', patternType: 'PREFIXED', name: prefix, operation: 'READ', why: 'read events, snapshots, the routing log, append requests and replies' },
    { resourceType: 'TOPIC', patternType: 'PREFIXED', name: prefix, operation: 'WRITE', why: 'write events, snapshots, replies and append requests to other owners (idempotent producers need no cluster ACL, KIP-679)' },
    { resourceType: 'GROUP', patternType: 'PREFIXED', name: prefix, operation: 'READ', why: 'the writer group `<store>.writers` (ownership) and named subscriptions' },
    { resourceType: 'TRANSACTIONAL_ID', patternType: 'PREFIXED', name: prefix, operation: 'WRITE', why: 'one transactional id per partition, `<store>.p<n>`: the fence of a former owner' },
  ];
  if (role === 'reader') return reader;
  if (role === 'writer') return writer;
  return [
    ...writer,
    { resourceType: 'TOPIC', patternType: 'PREFIXED', name: prefix, operation: 'CREATE', why: "create the store's topics (the first connect)" },
    { resourceType: 'TOPIC', patternType: 'PREFIXED', name: prefix, operation: 'ALTER', why: 'add partitions (`grow`, `scribe partitions grow`)' },
    { resourceType: 'TOPIC', patternType: 'PREFIXED', name: prefix, operation: 'DESCRIBE_CONFIGS', why: "read the topics' settings (operators' tools)" },
  ];
}

/** Topic operations a store process needs at connect: a writer reads and writes all of them, a reader reads. */
function neededOnTopics(topics: StoreTopics, writer: boolean): Map<string, string[]> {
  const needs = new Map<string, string[]>();
  for (const topic of [topics.events, topics.snapshots, topics.routing, topics.replies, topics.appends]) needs.set(topic, writer ? ['READ', 'WRITE'] : ['READ']);
  if (!writer) needs.delete(topics.appends);
  return needs;
}

/**
 * Fails with AuthorizationError (the topic and the operation named) when the principal lacks
 * an operation the process needs on the store's topics. Brokers without an authorizer answer
 * no operations at all: nothing to check then.
 */
export async function checkTopicAccess(admin: KafkaAdmin, topics: StoreTopics, writer: boolean): Promise<void> {
  const needs = neededOnTopics(topics, writer);
  const allowed = await admin.authorizedOperations([...needs.keys()]);
  for (const [topic, operations] of needs) {
    const has = allowed.get(topic);
    if (has === undefined) continue;
    if (has.has('ALL')) continue;
    const missing = operations.find((operation) => !has.has(operation));
    if (missing) {
      throw new AuthorizationError(
        'connect',
        { message: `the principal may not ${missing} topic ${topic}`, code: kafkaErrorCodes.ERR_TOPIC_AUTHORIZATION_FAILED, errno: 0, origin: 'scribe' },
        'TOPIC',
        missing,
        topic,
      );
    }
  }
}

/**
 * A writer joins the writer group and its partition writers each need a transactional id under
 * the store's prefix; without either ACL no writer could ever start. Both are checked at connect
 * (the transactional id with one of its own: initTransactions there fences nobody but an
 * earlier check), so the connect fails naming the missing ACL.
 */
export async function checkWriterAccess(connection: KafkaConnection, store: string, writerGroup: string, timeoutMs: number): Promise<void> {
  await withTimeout('check the writer group ACL', timeoutMs, checkGroupAccess(connection, writerGroup));
  const producer = await KafkaProducer.connect({ ...connection, clientId: `${connection.clientId ?? 'scribe'}-access-check`, transactionalId: `${store}.access-check` }, timeoutMs);
  try {
    await producer.initTransactions(timeoutMs);
  } finally {
    await producer.disconnect(1_000);
  }
}
