// Events between the caller and the log: encoded and waiting for their version, or stored
// at a version and an offset. The append rules, the index and the record codecs share them.

/** An event ready to be written: its data already encoded, its version not yet assigned. */
export interface EncodedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: Buffer;
  /** Encoded metadata, or undefined when there is none. */
  readonly metadata: string | undefined;
  readonly contentType: string;
  /** The version of the event type's schema the data follows, when the store has schemas. */
  readonly schemaVersion?: number;
}

/** An event as the log (and so the index) holds it. */
export interface StoredEvent extends EncodedEvent {
  readonly streamId: string;
  readonly version: number;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}
