import { z } from 'zod';
import { InvalidInput } from '../../errors.js';
import type { PushNotice, WebhookProvider } from './webhook-types.js';

const sha = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i, 'expected a 40 or 64 hex digit commit SHA');
const ref = z.string().startsWith('refs/', 'expected a full ref such as refs/heads/main');
const optionalText = z.string().nullish();

const githubPush = z.object({
  ref,
  before: sha,
  after: sha,
  deleted: z.boolean().optional(),
  forced: z.boolean().optional(),
  repository: z.object({
    clone_url: z.string().min(1),
    ssh_url: optionalText,
    html_url: optionalText,
    git_url: optionalText,
    full_name: optionalText,
  }),
  pusher: z.object({ name: optionalText }).nullish(),
});

const gitlabPush = z.object({
  object_kind: z.enum(['push', 'tag_push']),
  ref,
  before: sha,
  after: sha,
  user_username: optionalText,
  user_name: optionalText,
  project: z
    .object({
      git_http_url: optionalText,
      git_ssh_url: optionalText,
      web_url: optionalText,
      path_with_namespace: optionalText,
    })
    .nullish(),
  // Deprecated by GitLab but still sent, and the only source of URLs on old instances.
  repository: z
    .object({ git_http_url: optionalText, git_ssh_url: optionalText, homepage: optionalText })
    .nullish(),
});

const giteaPush = z.object({
  ref,
  before: sha,
  after: sha,
  repository: z.object({
    clone_url: z.string().min(1),
    ssh_url: optionalText,
    html_url: optionalText,
    full_name: optionalText,
  }),
  pusher: z.object({ login: optionalText, username: optionalText }).nullish(),
});

export function githubPushNotice(body: unknown): PushNotice {
  const push = validate('github', githubPush, body);
  const { repository: repo } = push;
  return notice('github', push, {
    repoUrls: [repo.clone_url, repo.ssh_url, repo.html_url, repo.git_url],
    repoFullName: repo.full_name,
    pusher: push.pusher?.name,
    deleted: push.deleted,
    forced: push.forced,
  });
}

export function gitlabPushNotice(body: unknown): PushNotice {
  const push = validate('gitlab', gitlabPush, body);
  const { project, repository } = push;
  const result = notice('gitlab', push, {
    repoUrls: [
      project?.git_http_url,
      project?.git_ssh_url,
      project?.web_url,
      repository?.git_http_url,
      repository?.git_ssh_url,
      repository?.homepage,
    ],
    repoFullName: project?.path_with_namespace,
    pusher: push.user_username ?? push.user_name,
  });
  if (result.repoUrls.length === 0) {
    throw new InvalidInput('gitlab push payload is missing project.git_http_url');
  }
  return result;
}

export function giteaPushNotice(body: unknown): PushNotice {
  const push = validate('gitea', giteaPush, body);
  const { repository: repo } = push;
  return notice('gitea', push, {
    repoUrls: [repo.clone_url, repo.ssh_url, repo.html_url],
    repoFullName: repo.full_name,
    pusher: push.pusher?.login ?? push.pusher?.username,
  });
}

function validate<T>(provider: WebhookProvider, schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
  );
  throw new InvalidInput(`${provider} push payload is invalid: ${problems.join('; ')}`, parsed.error.issues);
}

type Extras = {
  repoUrls: (string | null | undefined)[];
  repoFullName?: string | null;
  pusher?: string | null;
  deleted?: boolean;
  forced?: boolean;
};

function notice(
  provider: WebhookProvider,
  push: { ref: string; before: string; after: string },
  extras: Extras,
): PushNotice {
  const after = nonZero(push.after);
  const result: PushNotice = {
    provider,
    ref: push.ref,
    before: nonZero(push.before),
    after,
    repoUrls: [...new Set(extras.repoUrls.filter((url): url is string => !!url))],
    deleted: extras.deleted ?? after === null,
    forced: extras.forced ?? false,
  };
  if (extras.repoFullName) result.repoFullName = extras.repoFullName;
  if (extras.pusher) result.pusher = extras.pusher;
  return result;
}

function nonZero(sha: string): string | null {
  return /^0+$/.test(sha) ? null : sha.toLowerCase();
}
