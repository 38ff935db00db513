import type { Build, Deployment } from '@gantry/contracts';
import type { ApiClient } from '../api-client.js';
import { CliError } from '../context.js';

const WAIT_MS = 30_000;

async function poll<T>(
  what: string,
  everyMs: number,
  fn: () => Promise<T | undefined>,
  waitMs = WAIT_MS,
): Promise<T> {
  const until = Date.now() + waitMs;
  for (;;) {
    const found = await fn();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new CliError(`the demo waited ${waitMs / 1000} s for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `fn` every 50 ms until it returns a value; checks and reverts take a while (2 minutes at most). */
export function waitFor<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  return poll(what, 50, fn, 120_000);
}

export function waitForBuildOf(api: ApiClient, app: string, sha: string): Promise<Build> {
  return poll(`a build of ${sha.slice(0, 10)}: is the post-receive hook executable?`, 25, async () => {
    const builds = await api.get<Build[]>(`/api/builds?app=${app}&sha=${sha}`);
    return builds[0];
  });
}

/** The newest deployment of `sha` to `env`, once Gantry has recorded it. */
export function waitForDeploymentOf(api: ApiClient, app: string, env: string, sha: string) {
  return poll<Deployment>(`a deployment of ${sha.slice(0, 10)} to ${env}`, 25, async () => {
    const list = await api.get<Deployment[]>(`/api/deployments?app=${app}&env=${env}&limit=20`);
    return list.find((d) => d.sha === sha);
  });
}

export interface Answer {
  status: number;
  body: string;
}

export async function httpGet(url: string): Promise<Answer> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.text()).trim() };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    return { status: 0, body: `no answer (${cause})` };
  }
}

/** Polls `url` until its body contains `text`; returns when that first happened (performance.now()). */
export function waitUntilServing(url: string, text: string): Promise<number> {
  return poll(`${url} to answer "${text}"`, 2, async () => {
    const answer = await httpGet(url);
    return answer.body.includes(text) ? performance.now() : undefined;
  });
}
