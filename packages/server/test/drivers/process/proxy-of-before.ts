// The environment proxy as an older Gantry started it, before it could report traffic: environments
// keep serving across Gantry upgrades, so a current driver may adopt one of these.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readProxyState } from '../../../src/drivers/process/proxy-control.js';
import { proxyFiles } from '../../../src/drivers/process/proxy-files.js';

/** The last commit whose proxy had no traffic route. Its sources come out of this repository's history. */
export const BEFORE_TRAFFIC = 'c5f2c9898f0ac969439d1338ee1643a8ad8f2b03';

const sources: string[] = [];

/**
 * Starts that commit's proxy (its sources through tsx) on `port` for `workdir`, as `openProxy` would
 * have, and resolves with its pid once it answers on its control socket.
 */
export async function startProxyOfBefore(workdir: string, port: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-old-proxy-'));
  sources.push(dir);
  const repo = fileURLToPath(new URL('../../../../../', import.meta.url));
  execFileSync('sh', [
    '-c',
    'git -C "$1" archive "$2" packages/server/package.json packages/server/src/drivers/process | tar -x -C "$3"',
    'sh',
    repo,
    BEFORE_TRAFFIC,
    dir,
  ]);
  const main = join(dir, 'packages/server/src/drivers/process/proxy-main.ts');
  if ((await readFile(main, 'utf8')).includes('/traffic'))
    throw new Error(`${BEFORE_TRAFFIC} knows /traffic`);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const args = ['--import', tsx, main, String(port), workdir, proxyFiles(workdir).socket];
  const child = spawn(process.execPath, args, { cwd: workdir, detached: true, stdio: 'ignore' });
  child.unref();
  const until = Date.now() + 20_000;
  for (;;) {
    const state = await readProxyState(workdir);
    if (state && state.pid === child.pid) return child.pid;
    if (Date.now() > until) throw new Error('the proxy of before traffic reporting did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Removes the sources; the proxies themselves go with their workdir's cleanup (pid file). */
export async function removeProxiesOfBefore(): Promise<void> {
  await Promise.all(sources.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
