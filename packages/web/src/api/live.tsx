import { eventTypes } from '@gantry/contracts/events';
import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react';

export type LiveState = 'connecting' | 'live' | 'lost';

export interface LiveEvent {
  id: number;
  type: string;
  appId: string | null;
  subject: string | null;
  actor: string;
  data: Record<string, unknown>;
  createdAt: string;
}

/** Which cached queries an event makes stale, by the event type's first word. */
const TOUCHES: Record<string, string[][]> = {
  app: [['apps'], ['status'], ['commits']],
  push: [['commits'], ['status']],
  commit: [['commits'], ['status']],
  build: [['builds'], ['build'], ['commits'], ['status']],
  artifact: [['artifacts'], ['builds'], ['build']],
  tag: [['commits']],
  // verifying, verified and check_failed too: the deployment page and its checks (['deployment', id,
  // 'checks']), the board's verification badges, the environment's history, and the reverts (a
  // revert records the deployments it makes without an event of its own).
  deployment: [
    ['deployments'],
    ['deployment'],
    ['status'],
    ['environments'],
    ['commits'],
    ['metrics'],
    ['reverts'],
    ['approvals'],
  ],
  // approval.requested, .approved, .rejected: the Approvals page, the board and the deployment page.
  approval: [['approvals'], ['deployment'], ['deployments'], ['status']],
  // check.finished (subject: the deployment): its checks on the deployment page.
  check: [['deployment']],
  // revert.step, .pushed, .proposed, .skipped: the Reverts page and the deployment page's link to it.
  revert: [['reverts']],
  environment: [['status'], ['environments']],
  toggle: [['toggles'], ['toggle']],
  segment: [['toggles'], ['segments']],
  release: [['releases'], ['release'], ['toggles'], ['toggle'], ['metrics']],
  incident: [['incidents'], ['status'], ['metrics']],
  token: [['tokens']],
  // user.added/.changed/.removed, role.granted/.revoked: the People page.
  user: [['users']],
  role: [['users']],
};

export function invalidateFor(qc: QueryClient, types: Iterable<string>): void {
  const keys = new Map<string, string[]>();
  for (const type of types) {
    for (const key of TOUCHES[type.split('.')[0] ?? ''] ?? []) keys.set(key.join('/'), key);
  }
  for (const key of keys.values()) void qc.invalidateQueries({ queryKey: key });
}

type Listener = (e: LiveEvent) => void;
interface Live {
  state: LiveState;
  subscribe(fn: Listener): () => void;
}
const LiveContext = createContext<Live>({ state: 'connecting', subscribe: () => () => {} });

/**
 * One server-sent event stream for the whole console. Each event marks the queries it touches stale
 * (batched over a few milliseconds, so a burst refetches once); pages may also listen to the events
 * themselves. The browser reconnects a lost stream on its own, resuming after the last event id.
 */
export function LiveProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  const listeners = useRef(new Set<Listener>());
  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | undefined;
    let lastId: number | undefined;
    let wasLost = false;
    let stopped = false;
    let pending = new Set<string>();
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      flushTimer = undefined;
      const types = pending;
      pending = new Set();
      invalidateFor(qc, types);
    };
    const onEvent = (msg: MessageEvent<string>) => {
      let e: LiveEvent;
      try {
        e = JSON.parse(msg.data) as LiveEvent;
      } catch {
        return;
      }
      lastId = e.id;
      pending.add(e.type);
      flushTimer ??= setTimeout(flush, 30);
      for (const fn of listeners.current) fn(e);
    };
    const connect = () => {
      const url = lastId === undefined ? '/api/events/stream' : `/api/events/stream?after=${lastId}`;
      const s = new EventSource(url, { withCredentials: true });
      source = s;
      for (const type of eventTypes) s.addEventListener(type, onEvent);
      s.onopen = () => {
        setState('live');
        // Whatever happened while the stream was down: read it all again.
        if (wasLost) void qc.invalidateQueries();
        wasLost = false;
      };
      s.onerror = () => {
        wasLost = true;
        setState('lost');
        // The browser retries a dropped connection itself, but not an error answer: do it here.
        if (s.readyState === EventSource.CLOSED && !stopped) {
          s.close();
          retryTimer = setTimeout(connect, 2_000);
        }
      };
    };
    connect();
    return () => {
      stopped = true;
      if (flushTimer) clearTimeout(flushTimer);
      if (retryTimer) clearTimeout(retryTimer);
      source?.close();
    };
  }, [enabled, qc]);
  const value = useRef<Live>({
    state,
    subscribe(fn) {
      listeners.current.add(fn);
      return () => listeners.current.delete(fn);
    },
  });
  value.current = { ...value.current, state };
  return <LiveContext.Provider value={value.current}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  return useContext(LiveContext);
}

/** Calls `fn` for every live event while the component is mounted. */
export function useLiveEvents(fn: Listener): void {
  const live = useLive();
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => live.subscribe((e) => ref.current(e)), [live.subscribe]);
}
