// Where a stream lives as the store grows: its partition key's hash modulo the partition
// count of the latest generation, once its shard has moved there, else where it was before.
// A shard is a residue class of the hash; growth moves shards one fenced hand-over at a time.
import { murmur2Positive } from './murmur2.js';

/** A shard's hand-over from one partition to another, as the routing log records it. */
export interface ShardMove {
  /** The generation whose partition count the move serves (1 for the first growth). */
  readonly generation: number;
  readonly from: number;
  readonly to: number;
  /**
   * `sealed`: the old owner wrote its seal marker; appends go to `to`, whose owner opens the
   * shard once it holds the history up to the seal. `open`: the new owner writes it.
   */
  readonly state: 'sealed' | 'open';
  /** Offset of the seal marker in `from`: the shard's history there ends before it. */
  readonly sealedAt: number;
  /** Offset of the open marker in `to`: the shard's history there starts after it. */
  readonly openedAt?: number;
  /** Epoch ms of the seal's and the open's commits: the shard took no appends in between. */
  readonly sealedTime: number;
  readonly openedTime?: number;
}

/** Moves a growth may need before its partition pairs are too many to track one by one. */
export const maxMovesPerGrowth = 100_000;

export function moveId(move: { generation: number; from: number; to: number }): string {
  return `${move.generation}/${move.from}/${move.to}`;
}

export class RoutingTable {
  /** Partition counts by generation; generation 0 is the store as created. */
  private readonly counts: number[] = [];
  private readonly moves = new Map<string, ShardMove>();

  /** The store's partition count: the latest generation's. */
  get partitions(): number {
    return this.counts[this.counts.length - 1] ?? 0;
  }

  get generation(): number {
    return this.counts.length - 1;
  }

  get known(): boolean {
    return this.counts.length > 0;
  }

  generations(): readonly number[] {
    return this.counts;
  }

  /** Records a generation; an earlier one is ignored (the log may be read again). */
  addGeneration(generation: number, partitions: number): void {
    if (generation < this.counts.length) return;
    if (generation !== this.counts.length) throw new Error(`routing log: generation ${generation} follows generation ${this.counts.length - 1}`);
    this.counts.push(partitions);
  }

  /** Records a move's state; a state never goes back (`open` stays open). */
  addMove(move: ShardMove): void {
    const known = this.moves.get(moveId(move));
    if (known?.state === 'open' && move.state === 'sealed') return;
    this.moves.set(moveId(move), move);
  }

  move(generation: number, from: number, to: number): ShardMove | undefined {
    return this.moves.get(moveId({ generation, from, to }));
  }

  /** Moves of the latest generation, in the order they are recorded. */
  currentMoves(): ShardMove[] {
    return [...this.moves.values()].filter((m) => m.generation === this.generation);
  }

  /** The partition that takes appends for the key now. */
  partitionOf(key: string): number {
    return this.route(murmur2Positive(key)).partition;
  }

  /**
   * Where the key's appends go, and whether that partition is still waiting to open the
   * key's shard (sealed at the old owner, not yet opened by the new one).
   */
  placement(key: string): { partition: number; opening: boolean } {
    return this.route(murmur2Positive(key));
  }

  /**
   * What the index must hold before `partition` may take appends: for every shard moved into
   * it, the history of the partition it came from up to the seal, and so on back.
   */
  historyBefore(partition: number, generation = Number.MAX_SAFE_INTEGER): { partition: number; offset: number }[] {
    const needed = new Map<number, number>();
    const visit = (to: number, before: number) => {
      for (const m of this.moves.values()) {
        if (m.to !== to || m.generation >= before) continue;
        needed.set(m.from, Math.max(needed.get(m.from) ?? 0, m.sealedAt + 1));
        visit(m.from, m.generation);
      }
    };
    visit(partition, generation);
    return [...needed].map(([from, offset]) => ({ partition: from, offset }));
  }

  /**
   * Every partition that may hold some of the key's history, oldest first: a reader that
   * holds all of them up to now holds the whole stream.
   */
  historyOf(key: string): number[] {
    const hash = murmur2Positive(key);
    const partitions: number[] = [];
    this.counts.forEach((count, generation) => {
      const partition = hash % count;
      if (partitions.includes(partition)) return;
      if (generation === this.generation && this.route(hash).partition !== partition) return;
      partitions.push(partition);
    });
    return partitions;
  }

  private route(hash: number): { partition: number; opening: boolean } {
    const latest = this.partitions;
    if (this.counts.length < 2) return { partition: hash % latest, opening: false };
    // Earlier generations completed every move before the next began (see `grow`).
    const previous = this.counts[this.counts.length - 2]!;
    const from = hash % previous;
    const to = hash % latest;
    if (from === to) return { partition: to, opening: false };
    const move = this.moves.get(moveId({ generation: this.generation, from, to }));
    return move ? { partition: to, opening: move.state === 'sealed' } : { partition: from, opening: false };
  }

  /**
   * The partition pairs the latest growth moves shards between: one pair per residue class of
   * the hash modulo lcm(previous, latest) whose partition changes.
   */
  plannedMoves(): { from: number; to: number }[] {
    if (this.counts.length < 2) return [];
    const previous = this.counts[this.counts.length - 2]!;
    return movesBetween(previous, this.partitions);
  }

  /** Planned moves not sealed yet, and sealed ones not opened yet. */
  pendingMoves(): { from: number; to: number; state: 'planned' | 'sealed' }[] {
    return this.plannedMoves().flatMap(({ from, to }) => {
      const move = this.move(this.generation, from, to);
      if (move?.state === 'open') return [];
      return [{ from, to, state: move ? ('sealed' as const) : ('planned' as const) }];
    });
  }
}

/** The (from, to) pairs a growth from `previous` to `next` partitions moves shards between. */
export function movesBetween(previous: number, next: number): { from: number; to: number }[] {
  const classes = lcm(previous, next);
  if (classes > maxMovesPerGrowth) {
    throw new RangeError(`growing from ${previous} to ${next} partitions would move ${classes} shards; choose a count with more in common (a multiple of ${previous} moves the fewest)`);
  }
  const pairs = new Map<string, { from: number; to: number }>();
  for (let residue = 0; residue < classes; residue++) {
    const from = residue % previous;
    const to = residue % next;
    if (from !== to) pairs.set(`${from}/${to}`, { from, to });
  }
  return [...pairs.values()];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
