import type { PageRoute } from '../page-route';

/** The incidents area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [];
