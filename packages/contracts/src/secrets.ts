import { z } from 'zod';

/**
 * An app's secrets (`gantry secrets`): values kept encrypted by the server, never returned by the
 * API, injected as environment variables only where gantry.yaml declares them (`build.secrets`,
 * `environments.<env>.secrets`), and masked as `***` in logs, check output and events.
 *
 * @example
 * secretNameProblem('DATABASE_URL'); // null
 * secretNameProblem('GANTRY_TOKEN'); // 'GANTRY_TOKEN is reserved: Gantry sets GANTRY_* itself'
 */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const SECRET_NAME_MAX = 128;
/**
 * Shorter values are refused: a value is masked wherever it appears in a log, and masking two or
 * three characters would blank out ordinary words while hiding nothing worth hiding.
 */
export const SECRET_VALUE_MIN = 4;
export const SECRET_VALUE_MAX = 64 * 1024;

/** Names Gantry, its sandbox or its drivers set themselves (the run's `port_env` is checked per app). */
const RESERVED: Record<string, string> = {
  PATH: 'the sandbox sets it',
  HOME: 'Gantry gives each step and script a HOME of its own',
  PORT: 'the drivers tell the app its port in it',
  LANG: "the sandbox passes on the server's",
  TZ: "the sandbox passes on the server's",
  CI: 'Gantry sets CI=true for every step',
};

/** Why `name` cannot be a secret's name, or null when it can. */
export function secretNameProblem(name: string): string | null {
  const shown = JSON.stringify(name);
  if (name.length === 0) return 'a secret needs a name, e.g. DATABASE_URL';
  if (name.length > SECRET_NAME_MAX)
    return `${shown.slice(0, 40)}… is too long for a secret name: at most ${SECRET_NAME_MAX} characters`;
  if (!SECRET_NAME_PATTERN.test(name))
    return `${shown} is not a valid secret name: secrets become environment variables, so use letters, digits and _, not starting with a digit (e.g. DATABASE_URL)`;
  if (name.startsWith('GANTRY_')) return `${name} is reserved: Gantry sets GANTRY_* itself`;
  const why = RESERVED[name];
  return why ? `${name} is reserved: ${why}` : null;
}

export const secretNameSchema = z
  .string()
  .describe('an environment variable name, e.g. DATABASE_URL')
  .superRefine((name, ctx) => {
    const problem = secretNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** `secrets: [NAME…]` in gantry.yaml: the names, each once. */
export const secretNamesSchema = z
  .array(secretNameSchema)
  .max(200)
  .describe('names of secrets (set with `gantry secrets set`) given to it as environment variables')
  .superRefine((names, ctx) => {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `${name} is listed twice; list each secret once`,
        });
      seen.add(name);
    });
  });

/** The parts of gantry.yaml where secrets meet other variables (kept structural: no import of gantry-yaml). */
interface SecretDeclarations {
  build: { env?: Record<string, string>; secrets?: string[] };
  run?: { port_env?: string };
  environments?: Record<string, { config?: Record<string, unknown>; secrets?: string[] }>;
}

/** A declared secret must not also be a plain variable of the same place, nor the run's port variable. */
export function checkSecretDeclarations(config: SecretDeclarations, ctx: z.RefinementCtx): void {
  const portEnv = config.run?.port_env ?? 'PORT';
  config.build.secrets?.forEach((name, i) => {
    if (config.build.env && name in config.build.env)
      ctx.addIssue({
        code: 'custom',
        path: ['build', 'secrets', i],
        message: `${name} is both in build.env and build.secrets; keep one`,
      });
  });
  for (const [env, e] of Object.entries(config.environments ?? {})) {
    e.secrets?.forEach((name, i) => {
      const path = ['environments', env, 'secrets', i];
      if (e.config && name in e.config)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${name} is both in environments.${env}.config and its secrets; keep one`,
        });
      if (name === portEnv)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${name} is run.port_env: the driver sets it to the release's port`,
        });
    });
  }
}

/** A secret as the API lists it: never its value. */
export const secretSchema = z.object({
  name: z.string(),
  /** The environment it is set for; null for the app-wide value (an environment's overrides it). */
  env: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Who set it last (`token:<name>`, `user:<login>`). */
  updatedBy: z.string(),
});
export type Secret = z.infer<typeof secretSchema>;

export const setSecretBodySchema = z.strictObject({
  value: z
    .string()
    .max(SECRET_VALUE_MAX)
    .describe(`write-only: never returned; at least ${SECRET_VALUE_MIN} characters`),
  env: z
    .string()
    .max(100)
    .nullish()
    .describe("the environment it is for; omitted: app-wide (an environment's own value overrides it)"),
});
export type SetSecretBody = z.infer<typeof setSecretBodySchema>;

/** What `gantry secrets rotate-key` did. */
export const keyRotationSchema = z.object({
  /** The key every secret is encrypted with now. */
  keyId: z.string(),
  /** Keys retired (removed from the keyring). */
  retired: z.array(z.string()),
  /** Values encrypted again with the new key. */
  reencrypted: z.number(),
  /** True when it finished a rotation an earlier run left halfway (no new key was made). */
  resumed: z.boolean(),
});
export type KeyRotation = z.infer<typeof keyRotationSchema>;
