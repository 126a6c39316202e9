// The vocabulary of an event store: events as the caller gives them, events as they were
// recorded, and where a recorded event sits in the log.

/** JSON-compatible values: what an event's data and metadata may hold by default. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type Metadata = Readonly<Record<string, JsonValue>>;

/** An event to append. `id` makes the append idempotent when the caller retries; Scribe generates one when absent. */
export interface EventData<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
  readonly id?: string;
  readonly metadata?: Metadata;
}

/** Where an event is in the events topic. The offset is a decimal string (Kafka offsets are 64-bit). */
export interface Position {
  readonly partition: number;
  readonly offset: string;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> {
  readonly streamId: string;
  /** 0-based position within the stream. */
  readonly version: number;
  readonly type: Type;
  readonly data: Data;
  readonly metadata: Metadata;
  readonly id: string;
  readonly position: Position;
  /** When the owner wrote it (the Kafka record timestamp). */
  readonly timestamp: Date;
  /** With event schemas: the version of the type's schema the data follows (after upcasting, the latest). */
  readonly schemaVersion?: number;
}

export interface AppendResult {
  /** The version of the last event appended: pass it as `expectedVersion` to the next append. */
  readonly nextExpectedVersion: number;
  /** Position of the last event appended. */
  readonly position: Position;
}
