import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** The releases area's pages (lazy: loaded on first visit); `/releases/new` before `/releases/:name`. */
export const routes: PageRoute[] = [
  {
    path: '/releases',
    component: lazy(() => import('./release-list-page').then((m) => ({ default: m.ReleaseListPage }))),
  },
  {
    path: '/releases/new',
    component: lazy(() => import('./release-new-page').then((m) => ({ default: m.ReleaseNewPage }))),
  },
  {
    path: '/releases/:name',
    component: lazy(() => import('./release-page').then((m) => ({ default: m.ReleasePage }))),
  },
];
