// The fan-out of a store's events to its listeners: each event is stamped with its time once
// and handed to every listener in turn; a listener that throws is reported once and never
// stops the store or the other listeners.
import type { StoreEvent, StoreListener } from './store-events.js';

export class Instrumentation {
  private listeners: readonly StoreListener[];
  private readonly failed = new WeakSet<StoreListener>();

  constructor(listeners: readonly StoreListener[] = []) {
    this.listeners = [...listeners];
  }

  /** False when nobody listens: a caller may skip building an event at all. */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  /** Adds a listener; the function returned removes it. */
  observe(listener: StoreListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** For `instrument` options of the parts the store is made of. */
  readonly emit = (event: StoreEvent): void => {
    const listeners = this.listeners;
    if (listeners.length === 0) return;
    const stamped = { ...event, time: Date.now() };
    for (const listener of listeners) {
      try {
        listener(stamped);
      } catch (error) {
        // The store's work goes on; the listener's owner hears of it once, as a process warning.
        if (this.failed.has(listener)) continue;
        this.failed.add(listener);
        process.emitWarning(`a Scribe store listener threw on a ${event.type} event (reported once per listener): ${String(error)}`, 'ScribeListenerWarning');
      }
    }
  };
}
