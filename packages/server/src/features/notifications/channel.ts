import type { GantryEvent } from '@gantry/contracts';
import type { DeliveryRecord } from './delivery-store.js';

/** One delivery an event asks for: to a target (a webhook, an app's forge), by an action. */
export interface PlannedDelivery {
  eventId: number;
  eventType: string;
  /** A webhook subscription's id, or `forge:<app id>`. */
  target: string;
  appId: string | null;
  /** What to do: `webhook`, or a forge call such as `github.status`. */
  action: string;
  /** Deliveries sharing a key go out one after the other, in the order they were planned. */
  orderingKey: string | null;
  maxAttempts: number;
}

/** One HTTP request, built when an attempt runs. `url` may carry credentials; they are never logged. */
export interface OutboundRequest {
  method: 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
}

/** What an attempt sends, or why there is nothing to send (the delivery is then `skipped`). */
export type Prepared = { request: OutboundRequest } | { skip: string };

/**
 * A kind of receiver. The dispatcher asks it which deliveries a batch of events makes, and, at each
 * attempt, for the request to send, so that a retry uses what is true then (a forge's deployment id
 * learnt from an earlier call, a subscription removed meanwhile).
 */
export interface Channel {
  readonly name: string;
  /** Whether a delivery's target is this channel's. */
  owns(target: string): boolean;
  plan(events: GantryEvent[]): Promise<PlannedDelivery[]>;
  prepare(delivery: DeliveryRecord, event: GantryEvent): Promise<Prepared>;
  /** Told of a 2xx answer (its body, capped at 64 KiB), e.g. to keep the id a forge gave back. */
  delivered?(delivery: DeliveryRecord, event: GantryEvent, body: Buffer): Promise<void>;
}
