import { InvalidInput } from '../../errors.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import { checkReceiverUrl } from '../notifications/webhook-url.js';

export const forgeProviders = ['github', 'gitlab', 'gitea'] as const;
export type ForgeProvider = (typeof forgeProviders)[number];

/** The public instances: GitHub's API root, GitLab's and Gitea's own sites. */
export const DEFAULT_API_URL: Record<ForgeProvider, string> = {
  github: 'https://api.github.com',
  gitlab: 'https://gitlab.com',
  gitea: 'https://gitea.com',
};

/** Where an app's statuses go, as stored. */
export interface ForgeSettings {
  appId: string;
  provider: ForgeProvider;
  /** GitHub: the API root (GitHub Enterprise: https://<host>/api/v3). GitLab, Gitea: the instance. */
  apiUrl: string;
  /** `owner/name`; for GitLab a project id or its full path (`group/subgroup/project`). */
  repo: string;
  token: string;
  /** Environments GitHub is told are production (`production_environment`). */
  productionEnvironments: string[];
  /** The last event in the log when they were set: the forge hears of later ones only. */
  afterEventId: number;
  updatedAt: string;
  updatedBy: string;
}

export interface ForgeInput {
  provider: ForgeProvider;
  apiUrl?: string | null;
  repo: string;
  /** Omitted on a change: the stored token stays. */
  token?: string | null;
  productionEnvironments?: string[] | null;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Checks forge settings as an admin gives them and fills the defaults. The API URL loses a trailing
 * `/api/v4` (GitLab) or `/api/v1` (Gitea), which Gantry adds itself.
 *
 * @example
 * checkForgeInput({ provider: 'github', repo: 'acme/shop', token: 't' }, undefined);
 * // { provider: 'github', apiUrl: 'https://api.github.com', repo: 'acme/shop', token: 't', productionEnvironments: ['production'] }
 */
export function checkForgeInput(
  input: ForgeInput,
  storedToken: string | undefined,
): Omit<ForgeSettings, 'appId' | 'afterEventId' | 'updatedAt' | 'updatedBy'> {
  const { provider } = input;
  let apiUrl = checkReceiverUrl(input.apiUrl?.trim() || DEFAULT_API_URL[provider], 'apiUrl').replace(
    /\/+$/,
    '',
  );
  if (provider === 'gitlab') apiUrl = apiUrl.replace(/\/api\/v4$/, '');
  if (provider === 'gitea') apiUrl = apiUrl.replace(/\/api\/v1$/, '');
  if (new URL(apiUrl).username || new URL(apiUrl).password)
    throw new InvalidInput('apiUrl: give the token as token, not in the URL');
  const repo = input.repo.trim().replace(/^\/+|\/+$/g, '');
  const parts = repo.split('/');
  if (provider === 'gitlab') {
    if (!/^\d+$/.test(repo) && (parts.length < 2 || !parts.every((p) => NAME.test(p))))
      throw new InvalidInput(
        `repo: "${input.repo}" is not a GitLab project: give its id (e.g. 42) or its path (e.g. group/shop)`,
        { field: 'repo' },
      );
  } else if (parts.length !== 2 || !parts.every((p) => NAME.test(p) && p !== '.' && p !== '..')) {
    throw new InvalidInput(`repo: "${input.repo}" is not owner/name, e.g. acme/shop`, { field: 'repo' });
  }
  const token = input.token ?? storedToken;
  if (!token)
    throw new InvalidInput(
      `token: required the first time; a ${provider === 'github' ? 'GitHub token with the statuses and deployments permissions' : provider === 'gitlab' ? 'GitLab token with the api scope' : 'Gitea token with write:repository'}`,
      { field: 'token' },
    );
  if (/\s/.test(token)) throw new InvalidInput('token: holds spaces or line breaks; give the token alone');
  const productionEnvironments = input.productionEnvironments ?? ['production'];
  for (const env of productionEnvironments) checkEnvironmentName(env, 'productionEnvironments');
  return { provider, apiUrl, repo, token, productionEnvironments: [...new Set(productionEnvironments)] };
}
