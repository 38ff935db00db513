import type { PageRoute } from '../page-route';

/** The releases area's pages (lazy: loaded on first visit). */
export const routes: PageRoute[] = [];
