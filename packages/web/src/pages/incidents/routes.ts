import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** The incidents area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [
  {
    path: '/incidents',
    component: lazy(() => import('./incidents-page').then((m) => ({ default: m.IncidentsPage }))),
  },
  {
    path: '/incidents/:id',
    component: lazy(() => import('./incident-page').then((m) => ({ default: m.IncidentPage }))),
  },
];
