import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface CliTarget {
  url: string;
  token: string;
  source: string;
}

export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'gantry', 'config.json');
}

async function readJson(file: string): Promise<{ url?: string; token?: string } | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (!text) return null;
  try {
    return JSON.parse(text) as { url?: string; token?: string };
  } catch {
    throw new Error(`${file} is not valid JSON; fix it or delete it and run \`gantry login\``);
  }
}

/**
 * Where the CLI finds its server: GANTRY_URL/GANTRY_TOKEN, then the `cli.json` a local server
 * writes into its data dir (./.gantry by default), then the user's config from `gantry login`.
 */
export async function resolveTarget(env: NodeJS.ProcessEnv = process.env): Promise<CliTarget> {
  const dataDir = resolve(env.GANTRY_DATA_DIR ?? '.gantry');
  const candidates: [string, { url?: string; token?: string } | null][] = [
    ['GANTRY_URL/GANTRY_TOKEN', { url: env.GANTRY_URL, token: env.GANTRY_TOKEN }],
    [join(dataDir, 'cli.json'), await readJson(join(dataDir, 'cli.json'))],
    [userConfigPath(env), await readJson(userConfigPath(env))],
  ];
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
