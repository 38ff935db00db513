import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** The reverts area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [
  {
    path: '/reverts',
    component: lazy(() => import('./reverts-page').then((m) => ({ default: m.RevertsPage }))),
  },
  {
    path: '/reverts/:id',
    component: lazy(() => import('./reverts-page').then((m) => ({ default: m.RevertPage }))),
  },
];
