import { lazy } from 'react';
import type { PageRoute } from '../page-route';

/** The toggles area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [
  {
    path: '/toggles',
    component: lazy(() => import('./pick-app-page').then((m) => ({ default: m.PickAppPage }))),
  },
  {
    path: '/apps/:app/toggles',
    component: lazy(() => import('./toggle-list-page').then((m) => ({ default: m.ToggleListPage }))),
  },
  {
    path: '/apps/:app/toggles/:name',
    component: lazy(() => import('./toggle-page').then((m) => ({ default: m.TogglePage }))),
  },
];
