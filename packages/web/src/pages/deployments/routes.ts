import type { PageRoute } from '../page-route';

/** The deployments area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [];
