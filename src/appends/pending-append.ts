// An append or command waiting for its partition's next batch, and where a remote one came from.
import type { AppendIntent } from './append-batch.js';
import type { AppendResult } from '../streams/event.js';

/** Where a remote append came from: its reply goes back there, its offset commits with the events. */
export interface RemoteOrigin {
  readonly requester: string;
  readonly requestId: string;
  readonly offset: number;
  readonly deadline: number;
}

export interface PendingAppend extends AppendIntent {
  readonly partitionKey: string;
  readonly remote?: RemoteOrigin;
  resolve(result: AppendResult): void;
  /** A ScribeError, or a command's own refusal as `decide` threw it. */
  reject(error: unknown): void;
}

/** Where appends and commands wait for their partition's next batch: the partition's writer. */
export interface AppendQueue {
  enqueue(append: PendingAppend): void;
}
