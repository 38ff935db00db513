import type { WebhookFormat } from './webhook-format.js';

/** A webhook as stored: its URL with any credentials, its secret. Never returned as is by the API. */
export interface WebhookRecord {
  id: string;
  /** Null: every app's events. */
  appId: string | null;
  url: string;
  events: string[];
  format: WebhookFormat;
  secret: string | null;
  timeoutMs: number;
  maxAttempts: number;
  /** Events up to this one were in the log before it existed; it gets only later ones. */
  afterEventId: number;
  createdAt: string;
  createdBy: string;
}

export type NewWebhook = Omit<WebhookRecord, 'id' | 'createdAt'>;

export interface WebhookStore {
  insert(w: NewWebhook): Promise<WebhookRecord>;
  find(id: string): Promise<WebhookRecord | undefined>;
  /** Oldest first; of one app (its own, not the server-wide ones) when `appId` is given. */
  list(q?: { appId?: string }): Promise<WebhookRecord[]>;
  /** False when there was none. */
  remove(id: string): Promise<boolean>;
}
