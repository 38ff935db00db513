import { useQueries, useQuery } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { ResponseOf } from '../../api/types';
import { envOf } from '../toggles/toggle-api';
import type { StateSpec } from './release-words';

export type Release = ResponseOf<'/api/releases/{name}'>;
export type ReleaseChange = Release['changes'][number];

export const releasePath = (name: string) => `/releases/${encodeURIComponent(name)}`;

export function useReleases() {
  return useQuery({ queryKey: ['releases'], queryFn: () => ok(api.GET('/api/releases')) });
}

export function useRelease(name: string) {
  return useQuery({
    queryKey: ['release', name],
    queryFn: () => ok(api.GET('/api/releases/{name}', { params: { path: { name } } })),
  });
}

/**
 * The current state of every toggle a release changes, keyed `app/toggle/env` (for the confirmation
 * that lists what will change). Undefined while loading.
 */
export function useCurrentStates(changes: ReleaseChange[]): Map<string, StateSpec> | undefined {
  const apps = [...new Set(changes.map((c) => c.app))];
  const results = useQueries({
    queries: apps.map((app) => ({
      queryKey: ['toggles', app],
      queryFn: () => ok(api.GET('/api/apps/{app}/toggles', { params: { path: { app } } })),
    })),
  });
  if (results.some((r) => !r.data)) return undefined;
  const out = new Map<string, StateSpec>();
  results.forEach((r, i) => {
    for (const t of r.data ?? []) {
      for (const c of changes.filter((x) => x.app === apps[i] && x.toggle === t.name)) {
        const e = envOf(t, c.env);
        out.set(`${c.app}/${c.toggle}/${c.env}`, e as StateSpec);
      }
    }
  });
  return out;
}

/** Statuses in words for the people who plan releases. */
export const STATUS_TEXT: Record<Release['status'], string> = {
  draft: 'Draft: nothing has changed yet. Add changes, then apply it now or schedule it.',
  scheduled: 'Scheduled: it will be applied at the time below, unless you unschedule it.',
  applied: 'Applied: its changes are live. Revert it to put every toggle back as it was.',
  reverted: 'Reverted: every toggle it changed is back as it was before.',
  failed: 'Failed: it could not be applied at its time; nothing of it was applied.',
  cancelled: 'Cancelled: it will never be applied.',
};
