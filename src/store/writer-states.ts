// The latest state of each partition writer of this process, as the writers report their
// moves: what `health()` reads, without asking the writers (whose shape may change) anything.

export class WriterStates {
  private readonly states = new Map<number, string>();

  moved(partition: number, to: string): void {
    this.states.set(partition, to);
  }

  /** The partition's writer's last reported state; `starting` before its first move. */
  of(partition: number): string {
    return this.states.get(partition) ?? 'starting';
  }
}

/** States in which a writer takes appends (a batch in flight included). */
export const acceptingStates: ReadonlySet<string> = new Set(['ready', 'in-transaction', 'writing', 'committing']);
