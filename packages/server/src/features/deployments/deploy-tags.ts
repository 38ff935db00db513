/** Default `tags.pattern`: a tag `deploy/<env>/<anything>` deploys its commit to <env>. */
export const DEFAULT_TAG_PATTERN = 'deploy/{env}/*';

/**
 * Turns `deploy/{env}/*` into a matcher that returns the environment a tag names, or null.
 *
 * @example tagMatcher('deploy/{env}/*')('deploy/staging/2026-01-01-abc') // 'staging'
 */
export function tagMatcher(pattern: string = DEFAULT_TAG_PATTERN): (tag: string) => string | null {
  const escaped = pattern
    .split(/(\{env\}|\*)/)
    .map((part) =>
      part === '{env}'
        ? '([a-z0-9][a-z0-9-]*)'
        : part === '*'
          ? '.*'
          : part.replace(/[.+?^$()[\]\\|]/g, '\\$&'),
    )
    .join('');
  const re = new RegExp(`^${escaped}$`);
  return (tag) => re.exec(tag)?.[1] ?? null;
}

/** The git glob that lists candidate tags (`{env}` becomes `*`). */
export function tagGlob(pattern: string = DEFAULT_TAG_PATTERN): string {
  return pattern.replace('{env}', '*');
}

/** `deploy/<env>/<UTC timestamp>-<short sha>`, the tag `gantry deploy` creates. */
export function deployTagName(pattern: string, env: string, sha: string, at = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const suffix = `${stamp}-${sha.slice(0, 7)}`;
  return pattern.replace('{env}', env).replace('*', suffix);
}
