import type { EventType, GantryEvent, NewEvent } from '@gantry/contracts';

export interface EventQuery {
  after?: number;
  limit?: number;
  appId?: string;
  types?: EventType[];
  subject?: string;
}

/** The append-only event log. */
export interface EventStore {
  append(event: NewEvent): Promise<GantryEvent>;
  list(query: EventQuery): Promise<GantryEvent[]>;
  lastId(): Promise<number>;
}
