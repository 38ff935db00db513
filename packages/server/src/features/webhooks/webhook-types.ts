export type WebhookProvider = 'github' | 'gitlab' | 'gitea';

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export type PushNotice = {
  provider: WebhookProvider;
  /** Full ref, e.g. `refs/heads/main` or `refs/tags/v1`. */
  ref: string;
  /** Null when the ref was created (all-zero SHA). */
  before: string | null;
  /** Null when the ref was deleted (all-zero SHA). */
  after: string | null;
  /** Every URL the payload gives for the repository; compare them with `normaliseRepoUrl`. */
  repoUrls: string[];
  repoFullName?: string;
  pusher?: string;
  deleted: boolean;
  forced: boolean;
};

export type WebhookResult =
  | { kind: 'push'; notice: PushNotice }
  | { kind: 'ping' }
  | { kind: 'ignored'; reason: string };
