import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** People, role bindings and tokens (lazy: loaded on first visit). */
export const routes: PageRoute[] = [
  {
    path: '/people',
    component: lazy(() => import('./people-page').then((m) => ({ default: m.PeoplePage }))),
  },
  {
    path: '/tokens',
    component: lazy(() => import('./tokens-page').then((m) => ({ default: m.TokensPage }))),
  },
];
