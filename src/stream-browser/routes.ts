// The stream browser's JSON API: the store's overview (partitions and owners), streams found
// by prefix or text, a stream's events, subscription lag, the live tail (server-sent events)
// and, when allowed, an append.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import type { KafkaAdmin } from '../kafka/index.js';
import { eventView } from '../operator/event-view.js';
import { ownersByPartition } from '../operator/store-description.js';
import type { StreamCatalog } from '../operator/stream-catalog.js';
import { listSubscriptions, subscriptionLag } from '../operator/subscriptions.js';
import { writerGroupId } from '../ownership/writer-group.js';
import type { KafkaEventStore } from '../store/event-store.js';
import { topicNames } from '../store/topics.js';
import type { ExpectedVersion } from '../streams/expected-version.js';

export interface BrowserContext {
  readonly store: KafkaEventStore;
  readonly admin: KafkaAdmin;
  readonly catalog: StreamCatalog;
  readonly allowAppend: boolean;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly answer?: (url: URL, body: unknown) => Promise<unknown>;
  /** A response that stays open (the live tail). */
  readonly stream?: (url: URL, request: IncomingMessage, response: ServerResponse) => void;
}


function count(url: URL, name: string, fallback: number, max: number): number {
  const value = url.searchParams.get(name);
  if (value === null || value === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(value) || Number(value) > max) throw new InvalidArgumentError(name, `${JSON.stringify(value.slice(0, 20))} must be an integer from 0 to ${max}`);
  return Number(value);
}

export function routes(context: BrowserContext): Route[] {
  const { store, admin, catalog } = context;
  return [
    {
      method: 'GET',
      path: '/api/overview',
      answer: async () => {
        const [routing, group] = await Promise.all([store.routingStatus(), admin.describeGroup(writerGroupId(store.name))]);
        const owners = ownersByPartition(group.members, topicNames(store.name).appends);
        return {
          store: store.name,
          partitions: routing.partitions,
          generations: routing.generations,
          allowAppend: context.allowAppend,
          streams: catalog.size,
          writers: { state: group.state, members: group.members.length },
          owners: Array.from({ length: routing.partitions }, (_, partition) => ({ partition, owner: owners.get(partition) ?? null })),
        };
      },
    },
    {
      method: 'GET',
      path: '/api/streams',
      answer: async (url) => {
        const q = url.searchParams.get('q') ?? '';
        const match = url.searchParams.get('match') === 'contains' ? 'contains' : 'prefix';
        const limit = count(url, 'limit', 200, 5_000);
        const query = q === '' ? {} : match === 'contains' ? { contains: q } : { prefix: q };
        return { total: catalog.size, streams: catalog.find(query, limit) };
      },
    },
    {
      method: 'GET',
      path: '/api/events',
      answer: async (url) => {
        const streamId = url.searchParams.get('stream');
        if (!streamId) throw new InvalidArgumentError('stream', 'name the stream: ?stream=<id>');
        const from = count(url, 'from', 0, 999_999_999);
        const max = count(url, 'max', 500, 10_000);
        const events = [];
        for await (const event of store.readStream(streamId, { fromVersion: from, maxCount: max })) events.push(eventView(event));
        return { streamId, events };
      },
    },
    {
      method: 'GET',
      path: '/api/subscriptions',
      answer: async () => {
        const found = await listSubscriptions(admin, store.name);
        return { subscriptions: await Promise.all(found.map((s) => subscriptionLag(store, admin, s))) };
      },
    },
    {
      method: 'POST',
      path: '/api/append',
      answer: async (_url, body) => {
        if (!context.allowAppend) throw new BrowserRequestError('READ_ONLY', 'this stream browser is read-only: start it with `scribe ui --allow-append` to append');
        const given = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
        const expected = given.expectedVersion === undefined || given.expectedVersion === '' ? 'any' : given.expectedVersion;
        // The store checks every field and names the one at fault.
        const result = await store.append(
          given.stream as string,
          [{ type: given.type as string, data: given.data, ...(given.metadata === undefined ? {} : { metadata: given.metadata as Record<string, never> }) }],
          { expectedVersion: expected as ExpectedVersion },
        );
        return { streamId: given.stream, version: result.nextExpectedVersion, position: result.position };
      },
    },
    {
      method: 'GET',
      path: '/api/tail',
      stream: (url, request, response) => {
        const prefix = url.searchParams.get('prefix') ?? '';
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        response.write(': live tail\n\n');
        const stop = catalog.onLive((event) => {
          if (prefix !== '' && !event.streamId.startsWith(prefix)) return;
          response.write(`data: ${JSON.stringify(eventView(event))}\n\n`);
        });
        // A comment now and then keeps proxies from closing an idle tail.
        const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15_000);
        request.on('close', () => {
          clearInterval(keepAlive);
          stop();
        });
      },
    },
  ];
}

/** A request the browser refuses: the code and message go back as JSON. */
export class BrowserRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
