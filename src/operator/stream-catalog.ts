// The streams of a store, as one subscription from the start sees them: each stream's id,
// partition, last version, type and time, kept up to date live; new events are handed to
// listeners (the stream browser's live tail). Kafka has no list of keys: reading the log is
// the only way to know the streams, so the catalog costs one pass over it at start.
import type { KafkaEventStore } from '../store/event-store.js';
import type { Subscription } from '../contract/event-store.js';
import type { RecordedEvent } from '../streams/event.js';

export interface StreamEntry {
  readonly streamId: string;
  readonly partition: number;
  /** The version of the stream's last event. */
  readonly version: number;
  readonly lastType: string;
  readonly lastTime: string;
}

export type LiveListener = (event: RecordedEvent) => void;

export class StreamCatalog {
  private readonly streams = new Map<string, StreamEntry>();
  private readonly listeners = new Set<LiveListener>();
  private events = 0;
  private lastEventAt = 0;

  private constructor(
    /** Per partition, the committed end when the catalog started: events below it are history, not live. */
    private readonly liveFrom: Map<number, number>,
    readonly historyEvents: number,
  ) {}

  private subscription: Subscription | undefined;

  static async start(store: KafkaEventStore, ends: Map<number, number>): Promise<StreamCatalog> {
    const history = [...ends.values()].reduce((sum, end) => sum + end, 0);
    const catalog = new StreamCatalog(ends, history);
    catalog.subscription = await store.subscribe({ from: 'start' }, (event) => catalog.add(event));
    return catalog;
  }

  /**
   * Resolves once the catalog holds every event committed before it started: in each partition
   * it has passed that end, or only transaction markers remain before it (the lag says so).
   */
  async caughtUp(store: KafkaEventStore, onProgress: (read: number) => void = () => undefined, pollMs = 250): Promise<void> {
    for (;;) {
      onProgress(this.events);
      const positions = this.subscription?.lastPositions ?? [];
      const at = new Map(positions.map((p) => [p.partition, Number(p.offset)]));
      const behind = [...this.liveFrom].filter(([partition, end]) => end > 0 && (at.get(partition) ?? -1) < end - 1);
      if (behind.length === 0) return;
      // While events flow the catalog is still reading; once they stop, ask whether only markers remain.
      if (Date.now() - this.lastEventAt > 1_000) {
        const lag = await store.lag(positions);
        if (behind.every(([partition]) => (lag.find((l) => l.partition === partition)?.events ?? 0) === 0)) return;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Events read so far (history and live). */
  get read(): number {
    return this.events;
  }

  get size(): number {
    return this.streams.size;
  }

  /** Streams whose id starts with `prefix` (or contains `text`, for search), sorted by id. */
  find(query: { readonly prefix?: string; readonly contains?: string }, limit: number): StreamEntry[] {
    const found: StreamEntry[] = [];
    for (const entry of this.streams.values()) {
      if (query.prefix !== undefined && !entry.streamId.startsWith(query.prefix)) continue;
      if (query.contains !== undefined && !entry.streamId.includes(query.contains)) continue;
      found.push(entry);
    }
    return found.sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0)).slice(0, limit);
  }

  /** Listens to events committed after the catalog started; the function returned stops listening. */
  onLive(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await this.subscription?.stop();
  }

  private add(event: RecordedEvent): void {
    this.events++;
    this.lastEventAt = Date.now();
    const previous = this.streams.get(event.streamId);
    if (!previous || previous.version < event.version) {
      this.streams.set(event.streamId, { streamId: event.streamId, partition: event.position.partition, version: event.version, lastType: event.type, lastTime: event.timestamp.toISOString() });
    }
    if (Number(event.position.offset) < (this.liveFrom.get(event.position.partition) ?? 0)) return;
    for (const listener of this.listeners) listener(event);
  }
}
