import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** The deployments area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [
  {
    path: '/apps/:app/deployments/:id',
    component: lazy(() => import('./deployment-page').then((m) => ({ default: m.DeploymentPage }))),
  },
  {
    path: '/apps/:app/environments/:env',
    component: lazy(() => import('./environment-page').then((m) => ({ default: m.EnvironmentPage }))),
  },
];
