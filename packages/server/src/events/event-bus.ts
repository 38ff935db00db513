import { EventEmitter } from 'node:events';
import type { GantryEvent } from '@gantry/contracts';

/**
 * In-process fan-out of appended events. Listeners are woken early; the event log stays the
 * source of truth (SSE readers re-read the table), so a second server on the same PostgreSQL
 * only loses latency, never events.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: GantryEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (e: GantryEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Resolves on the next event or after `ms`, whichever is first. */
  waitForNext(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off('event', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.on('event', done);
      signal?.addEventListener('abort', done);
    });
  }
}
