import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** Agents: their tokens, labels and hosts (lazy: loaded on first visit). */
export const routes: PageRoute[] = [
  {
    path: '/agents',
    component: lazy(() => import('./agents-page').then((m) => ({ default: m.AgentsPage }))),
  },
];
