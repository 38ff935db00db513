/**
 * Gitea, as its API documents it (swagger, `repoCreateStatus`, https://gitea.com/api/swagger):
 * `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}` with a CreateStatusOption — `state` (pending,
 * success, error, failure, warning), `context`, `description`, `target_url` — authenticated with
 * `Authorization: token <token>`. Gitea has no deployments API: environments show as statuses.
 */
import { USER_AGENT } from '../notifications/webhook-channel.js';
import type { ForgeApi } from './forge-api.js';
import { contextOf, cut, type ForgeFacts, type Outcome } from './forge-facts.js';

/** Gitea sets no limit in its API; it shows statuses as GitHub does, so GitHub's 140 is kept. */
const DESCRIPTION_MAX = 140;

const STATE: Record<Outcome, 'pending' | 'success' | 'error' | 'failure' | 'warning'> = {
  queued: 'pending',
  running: 'pending',
  succeeded: 'success',
  failed: 'failure',
  cancelled: 'warning',
  refused: 'error',
  superseded: 'warning',
  interrupted: 'error',
  verifying: 'pending',
  verified: 'success',
  check_failed: 'failure',
};

export const gitea: ForgeApi = {
  actions: () => ['status'],

  call(_action, f: ForgeFacts, s) {
    const [owner, name] = s.repo.split('/') as [string, string];
    return {
      method: 'POST',
      path: `/api/v1/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/statuses/${f.sha}`,
      body: {
        state: STATE[f.outcome],
        context: contextOf(f),
        description: cut(f.description, DESCRIPTION_MAX),
        ...(f.targetUrl && { target_url: f.targetUrl }),
      },
    };
  },

  createsDeployment: () => false,

  headers: (token) => ({
    Authorization: `token ${token}`,
    Accept: 'application/json',
    'User-Agent': USER_AGENT,
    'Content-Type': 'application/json',
  }),
};
