// An event as the operator's tools show it (the CLI's --json lines, the stream browser's API):
// plain JSON, its timestamp as ISO 8601.
import type { RecordedEvent } from '../streams/event.js';

export function eventView(event: RecordedEvent): Record<string, unknown> {
  return {
    streamId: event.streamId,
    version: event.version,
    type: event.type,
    id: event.id,
    data: event.data,
    metadata: event.metadata,
    position: event.position,
    timestamp: event.timestamp.toISOString(),
    ...(event.schemaVersion === undefined ? {} : { schemaVersion: event.schemaVersion }),
  };
}
