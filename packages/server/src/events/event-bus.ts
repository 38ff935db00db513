import { EventEmitter } from 'node:events';
import type { GantryEvent } from '@gantry/contracts';

/** Where a published event was appended: on this server, or on another one sharing the database. */
export interface EventOrigin {
  /** Appended by another server; relayed here by src/cluster (PostgreSQL LISTEN/NOTIFY). */
  remote: boolean;
}

export type EventListener = (e: GantryEvent, origin: EventOrigin) => void;

const LOCAL: EventOrigin = Object.freeze({ remote: false });

/**
 * In-process fan-out of appended events, after their commit. On PostgreSQL the cluster relay
 * (src/cluster) publishes here, marked remote, the events other servers on the same database
 * append, so every listener hears of every event; one that writes on an event (and so must act
 * once, not on every server) subscribes with `localOnly`. The event log stays the source of truth:
 * SSE readers re-read the table, so a lost wake-up costs latency, never events.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: GantryEvent, origin: EventOrigin = LOCAL): void {
    this.emitter.emit('event', event, origin);
  }

  subscribe(listener: EventListener, opts: { localOnly?: boolean } = {}): () => void {
    const fn: EventListener = opts.localOnly
      ? (e, origin) => {
          if (!origin.remote) listener(e, origin);
        }
      : listener;
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  /** Resolves on the next event (from any server) or after `ms`, whichever is first. */
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
