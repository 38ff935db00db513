/**
 * GitLab, as its REST API documents it (v4):
 * - commit statuses, https://docs.gitlab.com/ee/api/commits.html#set-the-pipeline-status-of-a-commit —
 *   `POST /projects/:id/statuses/:sha` with `state` (pending, running, success, failed, canceled),
 *   `name`, `target_url` and `description` (each at most 255 characters);
 * - deployments, https://docs.gitlab.com/ee/api/deployments.html — `POST /projects/:id/deployments`
 *   with `environment`, `sha`, `ref`, `tag` and `status` (running, success, failed, canceled), whose
 *   answer's `id` is the deployment's, then `PUT /projects/:id/deployments/:deployment_id` with a new
 *   `status`. The environment appears in GitLab with the first deployment.
 * Authentication is the `PRIVATE-TOKEN` header; `:id` is the project's id or its URL-encoded path.
 */
import { USER_AGENT } from '../notifications/webhook-channel.js';
import type { ForgeApi } from './forge-api.js';
import { contextOf, cut, type ForgeFacts, type Outcome } from './forge-facts.js';

const TEXT_MAX = 255;

const COMMIT_STATE: Record<Outcome, 'pending' | 'running' | 'success' | 'failed' | 'canceled'> = {
  queued: 'pending',
  running: 'running',
  succeeded: 'success',
  failed: 'failed',
  cancelled: 'canceled',
  refused: 'failed',
  superseded: 'canceled',
  interrupted: 'failed',
  verifying: 'running',
  verified: 'success',
  check_failed: 'failed',
};

/**
 * A GitLab deployment is created when Gantry's starts and finished once. Its checks show on the
 * commit status only: GitLab does not move a deployment from success back to running or failed.
 */
const DEPLOYMENT_STATE: Partial<Record<Outcome, 'running' | 'success' | 'failed' | 'canceled'>> = {
  succeeded: 'success',
  failed: 'failed',
  interrupted: 'failed',
};

export const gitlab: ForgeApi = {
  actions(h) {
    if (h.kind === 'build') return ['status'];
    if (h.outcome === 'running') return ['status', 'deployment'];
    return DEPLOYMENT_STATE[h.outcome] ? ['status', 'deployment_update'] : ['status'];
  },

  call(action, f: ForgeFacts, s, remoteId) {
    const project = `/api/v4/projects/${encodeURIComponent(s.repo)}`;
    if (action === 'status')
      return {
        method: 'POST',
        path: `${project}/statuses/${f.sha}`,
        body: {
          state: COMMIT_STATE[f.outcome],
          name: contextOf(f),
          ...(f.targetUrl && f.targetUrl.length <= TEXT_MAX && { target_url: f.targetUrl }),
          description: cut(f.description, TEXT_MAX),
        },
      };
    if (action === 'deployment') {
      if (remoteId) return `GitLab deployment ${remoteId} exists for ${f.deploymentId} already`;
      return {
        method: 'POST',
        path: `${project}/deployments`,
        body: { environment: f.env, sha: f.sha, ref: f.branch, tag: false, status: 'running' },
      };
    }
    const status = DEPLOYMENT_STATE[f.outcome];
    if (!status) return `GitLab deployments have no state for ${f.outcome}`;
    if (!remoteId)
      return `no GitLab deployment for ${f.deploymentId} (it never started, or creating it did not succeed)`;
    return {
      method: 'PUT',
      path: `${project}/deployments/${encodeURIComponent(remoteId)}`,
      body: { status },
    };
  },

  createsDeployment: (action) => action === 'deployment',

  headers: (token) => ({
    'PRIVATE-TOKEN': token,
    Accept: 'application/json',
    'User-Agent': USER_AGENT,
    'Content-Type': 'application/json',
  }),
};
