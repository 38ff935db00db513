import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** The metrics area's pages (lazy: loaded on first visit, with uPlot). */
export const routes: PageRoute[] = [
  {
    path: '/metrics',
    component: lazy(() => import('./metrics-page').then((m) => ({ default: m.MetricsPage }))),
  },
];
