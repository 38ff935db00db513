import { lazy } from 'react';
import type { PageRoute } from '../page-route';

const commits = () => import('./commits-page');

/** The builds area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [
  { path: '/commits', component: lazy(() => commits().then((m) => ({ default: m.CommitsPage }))) },
  {
    path: '/apps/:app/commits',
    component: lazy(() => commits().then((m) => ({ default: m.AppCommitsPage }))),
  },
  {
    path: '/apps/:app/builds/:id',
    component: lazy(() => import('./build-page').then((m) => ({ default: m.BuildPage }))),
  },
];
