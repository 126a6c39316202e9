// What a store reports about its own work, as typed events: the one port that logs, metrics
// and traces plug into. No Kafka types here: a backend says what happened in the words of the store.

/** How an append ended, as instrumentation counts it: `ok`, or the stable code of its error. */
export type AppendOutcome = 'ok' | string;

/** Why a writer's transaction did not commit, and what that means for its appends. */
export type AbortOutcome = 'not-stored' | 'unknown' | 'fenced';

export type StoreEvent =
  /** A transaction of a partition's writer committed. */
  | {
      readonly type: 'batch-committed';
      readonly partition: number;
      readonly appends: number;
      readonly events: number;
      readonly bytes: number;
      /** From the transaction's begin to its commit's return. */
      readonly durationMs: number;
    }
  /** A transaction of a partition's writer failed: what became of its appends. */
  | { readonly type: 'batch-aborted'; readonly partition: number; readonly appends: number; readonly outcome: AbortOutcome; readonly reason: string }
  /** The writer replaced its producer (a new epoch), e.g. after an unknown commit outcome. */
  | { readonly type: 'producer-reinitialised'; readonly partition: number; readonly reason: string }
  | { readonly type: 'writer-state-changed'; readonly partition: number; readonly from: string; readonly to: string }
  | { readonly type: 'ownership-gained'; readonly partitions: readonly number[] }
  | { readonly type: 'ownership-lost'; readonly partitions: readonly number[] }
  /** An append refused because the stream was not at the expected version. */
  | { readonly type: 'conflict'; readonly streamId: string; readonly partition: number; readonly expected: string; readonly actual: number }
  /** Every append (or command) this process was asked for, once settled, from the caller's side. */
  | {
      readonly type: 'append-settled';
      readonly streamId: string;
      readonly partition: number;
      /** Whether this process owned the partition or sent the append to its owner. */
      readonly owner: 'local' | 'remote';
      readonly outcome: AppendOutcome;
      readonly events: number;
      readonly durationMs: number;
    }
  /** Progress of reading a partition into the local index (recovery, takeover, reads). */
  | { readonly type: 'index-caught-up'; readonly partition: number; readonly offset: number; readonly behind: number }
  /** A subscription's distance from the end of a partition after handling a batch. */
  | { readonly type: 'subscription-lag'; readonly group: string; readonly partition: number; readonly events: number; readonly seconds: number }
  /** An operational message with no figures worth a type of its own. */
  | { readonly type: 'notice'; readonly message: string };

export type StoreEventType = StoreEvent['type'];

/** A subscriber to a store's events. It runs synchronously on the store's path: keep it cheap. */
export type StoreListener = (event: StoreEvent & { readonly time: number }) => void;
