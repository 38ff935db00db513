import { z } from 'zod';

/**
 * Normalises a path that must stay inside the repository: `./dist/` becomes `dist`.
 * Returns undefined for absolute paths and paths that climb out with `..`.
 *
 * @example
 * normaliseRelativePath('./build/../dist/'); // 'dist'
 * normaliseRelativePath('../secrets'); // undefined
 */
export function normaliseRelativePath(path: string): string | undefined {
  const slashed = path.replaceAll('\\', '/');
  if (slashed.startsWith('/') || slashed.startsWith('~') || /^[A-Za-z]:/.test(slashed)) return undefined;
  const parts: string[] = [];
  for (const part of slashed.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.pop() === undefined) return undefined;
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

/** A repository-relative path (or glob) with a description that error messages quote. */
export function relativePathSchema(description: string) {
  return z
    .string()
    .min(1)
    .describe(description)
    .transform((path, ctx) => {
      const normal = normaliseRelativePath(path);
      if (normal !== undefined) return normal;
      ctx.addIssue({
        code: 'custom',
        input: path,
        message: `expected a path inside the repository, relative to its root (no leading "/", no ".." above it), got "${path}"`,
      });
      return z.NEVER;
    });
}
