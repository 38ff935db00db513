/**
 * GitHub, as its REST API documents it (API version 2022-11-28):
 * - commit statuses, https://docs.github.com/en/rest/commits/statuses#create-a-commit-status —
 *   `POST /repos/{owner}/{repo}/statuses/{sha}` with `state` (error, failure, pending, success),
 *   `target_url`, `description` (a short one; GitHub keeps 140 characters) and `context`;
 * - deployments, https://docs.github.com/en/rest/deployments/deployments#create-a-deployment —
 *   `POST /repos/{owner}/{repo}/deployments` with `ref`, `task`, `auto_merge`, `required_contexts`,
 *   `payload`, `environment`, `description`, `transient_environment`, `production_environment`;
 *   the answer's `id` is the deployment's;
 * - deployment statuses, https://docs.github.com/en/rest/deployments/statuses#create-a-deployment-status —
 *   `POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses` with `state` (error, failure,
 *   inactive, in_progress, queued, pending, success), `log_url`, `description` (at most 140
 *   characters), `environment_url`, `auto_inactive`.
 */
import { USER_AGENT } from '../notifications/webhook-channel.js';
import type { ForgeApi } from './forge-api.js';
import { contextOf, cut, type ForgeFacts, type Outcome } from './forge-facts.js';

const DESCRIPTION_MAX = 140;

const COMMIT_STATE: Record<Outcome, 'error' | 'failure' | 'pending' | 'success'> = {
  queued: 'pending',
  running: 'pending',
  succeeded: 'success',
  failed: 'failure',
  cancelled: 'error',
  refused: 'error',
  superseded: 'error',
  interrupted: 'error',
  verifying: 'pending',
  verified: 'success',
  check_failed: 'failure',
};

type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'success';
const DEPLOYMENT_STATE: Partial<Record<Outcome, DeploymentState>> = {
  queued: 'queued',
  running: 'in_progress',
  succeeded: 'success',
  failed: 'failure',
  superseded: 'inactive',
  interrupted: 'error',
  verifying: 'in_progress',
  verified: 'success',
  check_failed: 'failure',
};

const repoPath = (repo: string) => {
  const [owner, name] = repo.split('/') as [string, string];
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
};

export const github: ForgeApi = {
  actions(h) {
    if (h.kind === 'build') return ['status'];
    if (h.outcome === 'queued') return ['status', 'deployment', 'deployment_status'];
    return DEPLOYMENT_STATE[h.outcome] ? ['status', 'deployment_status'] : ['status'];
  },

  call(action, f: ForgeFacts, s, remoteId) {
    const repo = repoPath(s.repo);
    const description = cut(f.description, DESCRIPTION_MAX);
    if (action === 'status')
      return {
        method: 'POST',
        path: `${repo}/statuses/${f.sha}`,
        body: {
          state: COMMIT_STATE[f.outcome],
          ...(f.targetUrl && { target_url: f.targetUrl }),
          description,
          context: contextOf(f),
        },
      };
    if (action === 'deployment') {
      if (remoteId) return `GitHub deployment ${remoteId} exists for ${f.deploymentId} already`;
      return {
        method: 'POST',
        path: `${repo}/deployments`,
        body: {
          ref: f.sha,
          task: 'deploy',
          // The exact commit Gantry deploys: no merge of the default branch, no required statuses.
          auto_merge: false,
          required_contexts: [],
          payload: { gantry: { deployment: f.deploymentId, trigger: f.trigger ?? null } },
          environment: f.env,
          description,
          transient_environment: false,
          production_environment: f.production,
        },
      };
    }
    const state = DEPLOYMENT_STATE[f.outcome];
    if (!state) return `GitHub has no deployment state for ${f.outcome}`;
    if (!remoteId) return `no GitHub deployment for ${f.deploymentId} (creating it did not succeed)`;
    return {
      method: 'POST',
      path: `${repo}/deployments/${encodeURIComponent(remoteId)}/statuses`,
      body: {
        state,
        ...(f.targetUrl && { log_url: f.targetUrl }),
        description,
        ...(f.environmentUrl &&
          (state === 'success' || state === 'in_progress') && {
            environment_url: f.environmentUrl,
          }),
        auto_inactive: true,
      },
    };
  },

  createsDeployment: (action) => action === 'deployment',

  headers: (token) => ({
    Authorization: `Bearer ${token}`,
    Accept: 'application/vnd.github+json',
    'X-GitHub-Api-Version': '2022-11-28',
    'User-Agent': USER_AGENT,
    'Content-Type': 'application/json',
  }),
};
