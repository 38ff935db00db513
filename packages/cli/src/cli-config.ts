import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface CliTarget {
  url: string;
  token: string;
  source: string;
}

/**
 * The user's CLI config, `$XDG_CONFIG_HOME/gantry/config.json` (default ~/.config/gantry), 0600.
 * It holds either a login (`{ url, token }`, written by `gantry login`) or a pointer to the data dir
 * of the last server started on this machine with `gantry server` (`{ dataDir }`): the CLI then reads
 * that data dir's `cli.json`, so it finds the server from any folder and follows its port.
 */
export interface UserConfig {
  url?: string;
  token?: string;
  dataDir?: string;
}

export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'gantry', 'config.json');
}

async function readJson(file: string): Promise<UserConfig | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (!text) return null;
  try {
    return JSON.parse(text) as UserConfig;
  } catch {
    throw new Error(`${file} is not valid JSON; fix it or delete it and run \`gantry login\``);
  }
}

/** The user's config as saved, or null when there is none. Throws when it is not JSON. */
export function readUserConfig(env: NodeJS.ProcessEnv = process.env): Promise<UserConfig | null> {
  return readJson(userConfigPath(env));
}

/** Replaces the user's config (0600 in a 0700 folder), atomically: a reader never sees half a file. */
export async function writeUserConfig(
  config: UserConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const file = userConfigPath(env);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/**
 * Where the CLI finds its server, first match wins (a URL and a token may come from different places,
 * e.g. GANTRY_URL with a saved token):
 * 1. GANTRY_URL / GANTRY_TOKEN;
 * 2. `$GANTRY_DATA_DIR/cli.json`, when GANTRY_DATA_DIR is set;
 * 3. the login saved by `gantry login` in the user's config;
 * 4. `./.gantry/cli.json`: a server started in this folder with the default data dir;
 * 5. the `cli.json` of the data dir the user's config points at (the last `gantry server` started here).
 */
export async function resolveTarget(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<CliTarget> {
  const saved = await readJson(userConfigPath(env));
  const candidates: [string, { url?: string; token?: string } | null][] = [
    ['GANTRY_URL/GANTRY_TOKEN', { url: env.GANTRY_URL, token: env.GANTRY_TOKEN }],
  ];
  const dataDirFile = async (dir: string) => {
    const file = join(resolve(cwd, dir), 'cli.json');
    candidates.push([file, await readJson(file)]);
  };
  if (env.GANTRY_DATA_DIR) await dataDirFile(env.GANTRY_DATA_DIR);
  if (saved?.token) candidates.push([userConfigPath(env), { url: saved.url, token: saved.token }]);
  await dataDirFile('.gantry');
  if (saved?.dataDir && !saved.token) await dataDirFile(saved.dataDir);
  const url = candidates.find(([, c]) => c?.url)?.[1]?.url;
  const found = candidates.find(([, c]) => c?.token);
  if (!url || !found) {
    throw new Error(
      'no Gantry server configured: start one with `gantry server`, or set GANTRY_URL and GANTRY_TOKEN, or run `gantry login <url> <token>`',
    );
  }
  return { url: url.replace(/\/$/, ''), token: found[1]!.token!, source: found[0] };
}

/** Where the CLI's token came from and how to get a new one: said when the server does not know it (401). */
export function tokenHint(target: CliTarget, env: NodeJS.ProcessEnv = process.env): string {
  const from =
    target.source === 'GANTRY_URL/GANTRY_TOKEN'
      ? 'the environment variable GANTRY_TOKEN'
      : target.source === 'login'
        ? 'the command line of `gantry login`'
        : target.source === userConfigPath(env)
          ? `${target.source} (saved by \`gantry login\`)`
          : `${target.source} (written by \`gantry server\` on the first start of that data dir)`;
  return (
    `The CLI sent the token from ${from} to ${target.url}. To get a new one, ask an admin to run ` +
    '`gantry token create <name>`, then `gantry login <url> <token>` (or set GANTRY_TOKEN)'
  );
}

/** What `gantry server` did about the user's config: said on its start. */
export type ServerLink =
  | { kind: 'saved'; file: string; replaced?: string }
  | { kind: 'logged-in'; file: string }
  | { kind: 'logged-in-elsewhere'; file: string; url: string }
  | { kind: 'failed'; file: string; reason: string };

/**
 * Makes the CLI on this machine find the server that `gantry server` just started, from any folder:
 * points the user's config at its data dir, unless it holds a login (`gantry login` is the user's
 * own choice and is never overwritten; a login to this very URL already finds it). A pointer left
 * by an earlier `gantry server` is replaced: the CLI follows the last server started.
 */
export async function linkServer(
  dataDir: string,
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServerLink> {
  const file = userConfigPath(env);
  let saved: UserConfig | null;
  try {
    saved = await readJson(file);
  } catch (e) {
    return { kind: 'failed', file, reason: (e as Error).message };
  }
  const dir = resolve(dataDir);
  if (saved?.token) {
    return saved.url?.replace(/\/$/, '') === url.replace(/\/$/, '')
      ? { kind: 'logged-in', file }
      : { kind: 'logged-in-elsewhere', file, url: saved.url ?? '(no URL)' };
  }
  if (saved?.dataDir && resolve(saved.dataDir) === dir) return { kind: 'saved', file };
  try {
    await writeUserConfig({ dataDir: dir }, env);
  } catch (e) {
    // A read-only home (a container, a service user) must not stop the server.
    return { kind: 'failed', file, reason: (e as Error).message };
  }
  return { kind: 'saved', file, ...(saved?.dataDir && { replaced: saved.dataDir }) };
}
