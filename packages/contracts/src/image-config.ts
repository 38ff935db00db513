import { z } from 'zod';
import { relativePathSchema } from './relative-path.js';

/** A repository path as the OCI Distribution spec allows it: `team/shop`, `shop-api`. */
export const repositoryPattern =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/** An image reference a `FROM` line takes: `[registry[:port]/]name[:tag][@sha256:…]`, no spaces. */
const imageReferencePattern =
  /^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/**
 * `build.image`: the artifact is an OCI image. With `dockerfile` (the default when neither key is
 * given) the context is the worktree after the steps ran; with `base`, the `artifact.path` folder is
 * copied into that image (WORKDIR /app) and `run.command` becomes its entrypoint.
 *
 * @example
 * imageSchema.parse({}); // { } → built from ./Dockerfile
 * imageSchema.parse({ base: 'registry.example.com/node:20' });
 */
export const imageSchema = z
  .strictObject({
    dockerfile: relativePathSchema('the Dockerfile, relative to the repository root').optional(),
    base: z
      .string()
      .describe('the image the artifact folder is copied into, e.g. registry.example.com/node:20')
      .regex(imageReferencePattern, {
        error: (iss) =>
          `${JSON.stringify(iss.input)} is not an image reference; write e.g. registry.example.com/node:20 or node:20-slim`,
      })
      .optional(),
    repository: z
      .string()
      .describe('the repository under the registry prefix, e.g. shop or team/shop')
      .regex(repositoryPattern, {
        error: (iss) =>
          `${JSON.stringify(iss.input)} is not a repository name: use lowercase letters, digits and . _ - separated by /, e.g. team/shop`,
      })
      .optional(),
  })
  .describe('build the artifact as an OCI image, e.g. { dockerfile: Dockerfile } or { base: node:20-slim }');

export type GantryImage = z.output<typeof imageSchema>;

const MEMORY_UNIT: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** The least memory a container engine accepts (Docker refuses less than 6 MiB). */
export const MIN_MEMORY_BYTES = 6 * 1024 ** 2;

/**
 * A memory size as Docker writes it (`256m`, `1g`, `512k`, `1048576`) in bytes, or an Error saying
 * what was expected.
 *
 * @example
 * parseMemory('256m'); // 268_435_456
 */
export function parseMemory(input: string | number): number {
  const m = /^\s*(\d+)\s*([bkmg]?)\s*$/i.exec(String(input));
  const n = m ? Number(m[1]) * MEMORY_UNIT[m[2]!.toLowerCase()]! : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(
      `${JSON.stringify(input)} is not a memory size: use a whole number of bytes or one with a unit (k, m, g), e.g. "256m"`,
    );
  }
  if (n < MIN_MEMORY_BYTES)
    throw new RangeError(
      `a memory limit of ${JSON.stringify(input)} is below 6m, the least a container engine accepts`,
    );
  return n;
}

export const limitsSchema = z
  .strictObject({
    memory: z
      .union([z.string(), z.int()])
      .describe('the memory limit, e.g. "256m", "1g" or a number of bytes')
      .transform((value, ctx) => {
        try {
          return parseMemory(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', input: value, message: (error as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
    cpus: z
      .number()
      .describe('CPUs as a fraction of cores, e.g. 0.5')
      .positive({ error: (iss) => `expected a number of CPUs > 0, e.g. 0.5, got ${String(iss.input)}` })
      .max(1024)
      .optional(),
  })
  .describe('resource limits for the container driver, e.g. { memory: 256m, cpus: 0.5 }');

interface ImageRulesInput {
  build: { image?: GantryImage; artifact?: { path: string } };
  run?: { command?: string };
}

/**
 * The rules that span sections: `build.artifact` is needed unless a Dockerfile builds the image,
 * `run.command` for tarballs (when there is a run section) and for base images.
 */
export function checkImageRules(config: ImageRulesInput, ctx: z.RefinementCtx): void {
  const image = config.build.image;
  if (image?.dockerfile !== undefined && image.base !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['build', 'image', 'base'],
      message:
        'use either dockerfile (your Dockerfile builds the image) or base (artifact.path is copied into that image), not both',
    });
    return;
  }
  const fromBase = image?.base !== undefined;
  if (!config.build.artifact && (!image || fromBase)) {
    ctx.addIssue({
      code: 'custom',
      path: ['build'],
      message: fromBase
        ? 'missing required key "artifact": with image.base the artifact folder is copied into the image; add e.g. artifact: { path: dist }'
        : 'missing required key "artifact" (what the build produces, e.g. { path: dist }); or build an image from a Dockerfile with image: { dockerfile: Dockerfile }',
    });
  }
  if (fromBase && !config.run?.command) {
    ctx.addIssue({
      code: 'custom',
      path: config.run ? ['run'] : ['build', 'image', 'base'],
      message:
        'an image built from a base runs run.command as its entrypoint; add e.g. run: { command: node server.js }',
    });
  } else if (!image && config.run && !config.run.command) {
    ctx.addIssue({
      code: 'custom',
      path: ['run'],
      message: 'missing required key "command" (the shell command that starts the app, e.g. node server.js)',
    });
  }
}
