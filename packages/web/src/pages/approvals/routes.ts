import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** The approvals area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [
  {
    path: '/approvals',
    component: lazy(() => import('./approvals-page').then((m) => ({ default: m.ApprovalsPage }))),
  },
];
