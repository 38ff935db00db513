import { routes as agents } from './agents/routes';
import { routes as approvals } from './approvals/routes';
import { routes as board } from './board/routes';
import { routes as builds } from './builds/routes';
import { routes as deployments } from './deployments/routes';
import { routes as incidents } from './incidents/routes';
import { routes as metrics } from './metrics/routes';
import type { PageRoute } from './page-route';
import { routes as people } from './people/routes';
import { routes as releases } from './releases/routes';
import { routes as reverts } from './reverts/routes';
import { routes as toggles } from './toggles/routes';

/** Every page but the board (at `/`); each area lists its own, loaded when first visited. */
export const routes: PageRoute[] = [
  ...board,
  ...builds,
  ...deployments,
  ...toggles,
  ...releases,
  ...metrics,
  ...incidents,
  ...reverts,
  ...approvals,
  ...people,
  ...agents,
];
