import type { PageRoute } from '../page-route';

/** The builds area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [];
