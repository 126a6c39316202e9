// When a stream's state is worth a snapshot. Checked after every command that appended
// events; the snapshot is written in the same transaction as those events.
export interface SnapshotContext<State> {
  readonly state: State;
  /** The stream's version after the command's events. */
  readonly version: number;
  /** Events since the last snapshot (all of them when there is none). */
  readonly eventsSinceSnapshot: number;
  /** When the last snapshot was written (undefined: none yet). */
  readonly lastSnapshotAt: Date | undefined;
}

export type SnapshotPolicy<State> =
  | { readonly every: number }
  | { readonly intervalMs: number }
  | { readonly when: (context: SnapshotContext<State>) => boolean };

export function snapshotDue<State>(policy: SnapshotPolicy<State> | undefined, context: SnapshotContext<State>, now = Date.now()): boolean {
  if (!policy) return false;
  if ('every' in policy) return context.eventsSinceSnapshot >= policy.every;
  if ('intervalMs' in policy) return context.lastSnapshotAt === undefined || now - context.lastSnapshotAt.getTime() >= policy.intervalMs;
  return policy.when(context);
}
