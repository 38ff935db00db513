import type { PlannedDelivery } from './channel.js';

export const deliveryStatuses = ['pending', 'succeeded', 'failed', 'skipped'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export interface DeliveryRecord {
  id: string;
  target: string;
  appId: string | null;
  eventId: number;
  eventType: string;
  action: string;
  orderingKey: string | null;
  status: DeliveryStatus;
  attempts: number;
  maxAttempts: number;
  /** When it is next due (while pending). */
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AttemptRecord {
  id: string;
  deliveryId: string;
  number: number;
  redelivery: boolean;
  startedAt: string;
  ms: number;
  method: string;
  /** Credentials masked. */
  url: string;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
}

/** An id the event log skipped when last read: a transaction that took it may not have committed yet. */
export interface CursorHole {
  id: number;
  /** When it was first seen missing (epoch ms). */
  since: number;
}

export interface EventCursor {
  after: number;
  holes: CursorHole[];
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
}

export interface DeliveryQuery {
  target?: string;
  /** Only deliveries of these targets (any of them). */
  targets?: string[];
  status?: DeliveryStatus;
  /** Newest first, before this id (paging). */
  before?: string;
  limit?: number;
}

export interface DeliveryCounts {
  pending: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

/** Deliveries, their attempts and the dispatcher's cursor in the event log. */
export interface DeliveryStore {
  cursor(name: string): Promise<EventCursor | undefined>;
  /** Moves the cursor forward only (several servers may read the same events). */
  saveCursor(name: string, cursor: EventCursor): Promise<void>;
  /** Inserts what is new; a (target, event, action) already planned is left as it is. */
  insert(planned: PlannedDelivery[], dueAt: string): Promise<void>;
  /** Pending deliveries due by `now`, oldest first, none behind an unfinished one of its ordering key. */
  due(now: string, limit: number): Promise<DeliveryRecord[]>;
  /** When the next pending delivery is due. */
  nextDueAt(): Promise<string | undefined>;
  /** Takes a due delivery for an attempt until `leaseUntil`; false when another took it first. */
  claim(d: DeliveryRecord, leaseUntil: string): Promise<boolean>;
  recordAttempt(a: AttemptRecord, appId: string | null): Promise<void>;
  finish(id: string, outcome: DeliveryOutcome): Promise<void>;
  find(id: string): Promise<DeliveryRecord | undefined>;
  /** Newest first. */
  list(q: DeliveryQuery): Promise<DeliveryRecord[]>;
  /** The attempts of these deliveries, in order. */
  attemptsOf(ids: string[]): Promise<AttemptRecord[]>;
  counts(targets: string[]): Promise<Map<string, DeliveryCounts>>;
  /** Forgets a target's deliveries and their attempts (a webhook removed). */
  removeTarget(target: string): Promise<void>;
}
