import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkServer, resolveTarget, userConfigPath, writeUserConfig } from '../src/cli-config.js';

// Where the CLI finds its server, and what `gantry server` writes for it (docs/install.md), on real
// files in temp folders: the user's config, data dirs' cli.json and the working directory's .gantry.

let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gantry-cli-config-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh XDG config home and working directory. */
async function user(): Promise<{ env: NodeJS.ProcessEnv; cwd: string; xdg: string }> {
  const base = join(root, `u${++n}`);
  const xdg = join(base, 'xdg');
  const cwd = join(base, 'cwd');
  await mkdir(cwd, { recursive: true });
  return { env: { XDG_CONFIG_HOME: xdg }, cwd, xdg };
}

/** A data dir whose server wrote `cli.json`, as `gantry server` does on its first start. */
async function dataDir(name: string, url: string, token: string): Promise<string> {
  const dir = join(root, `data-${name}-${++n}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'cli.json'), JSON.stringify({ url, token }));
  return dir;
}

describe('resolveTarget', () => {
  it('takes, in order: GANTRY_URL/TOKEN, GANTRY_DATA_DIR, the login, ./.gantry, the last server started', async () => {
    const u = await user();
    const last = await dataDir('last', 'http://last:1', 'gnt_last');
    const here = join(u.cwd, '.gantry');
    await mkdir(here);
    await writeFile(join(here, 'cli.json'), JSON.stringify({ url: 'http://here:2', token: 'gnt_here' }));
    const explicit = await dataDir('explicit', 'http://explicit:3', 'gnt_explicit');

    await writeUserConfig({ dataDir: last }, u.env);
    expect(await resolveTarget(u.env, u.cwd)).toMatchObject({ url: 'http://here:2', token: 'gnt_here' });
    expect(await resolveTarget(u.env, join(root))).toMatchObject({
      url: 'http://last:1',
      token: 'gnt_last',
      source: join(last, 'cli.json'),
    });

    await writeUserConfig({ url: 'http://login:4/', token: 'gnt_login' }, u.env);
    expect(await resolveTarget(u.env, u.cwd)).toEqual({
      url: 'http://login:4',
      token: 'gnt_login',
      source: userConfigPath(u.env),
    });
    const withDataDir = { ...u.env, GANTRY_DATA_DIR: explicit };
    expect(await resolveTarget(withDataDir, u.cwd)).toMatchObject({ url: 'http://explicit:3' });
    const withUrl = { ...withDataDir, GANTRY_URL: 'http://env:5', GANTRY_TOKEN: 'gnt_env' };
    expect(await resolveTarget(withUrl, u.cwd)).toMatchObject({ url: 'http://env:5', token: 'gnt_env' });
  });

  it('follows the pointed-at data dir (a restart on another port), and says when nothing is configured', async () => {
    const u = await user();
    await expect(resolveTarget(u.env, u.cwd)).rejects.toThrow(/no Gantry server configured/);
    const dir = await dataDir('moved', 'http://127.0.0.1:1000', 'gnt_a');
    await writeUserConfig({ dataDir: dir }, u.env);
    expect((await resolveTarget(u.env, u.cwd)).url).toBe('http://127.0.0.1:1000');
    await writeFile(join(dir, 'cli.json'), JSON.stringify({ url: 'http://127.0.0.1:2000', token: 'gnt_a' }));
    expect((await resolveTarget(u.env, u.cwd)).url).toBe('http://127.0.0.1:2000');
    // A pointer to a data dir that is gone finds nothing, rather than something else.
    await rm(dir, { recursive: true });
    await expect(resolveTarget(u.env, u.cwd)).rejects.toThrow(/no Gantry server configured/);
  });

  it('names the file when the user config is not JSON', async () => {
    const u = await user();
    await mkdir(join(u.xdg, 'gantry'), { recursive: true });
    await writeFile(join(u.xdg, 'gantry/config.json'), '{ nope');
    await expect(resolveTarget(u.env, u.cwd)).rejects.toThrow(`${userConfigPath(u.env)} is not valid JSON`);
  });
});

describe('linkServer (what gantry server does to the user config)', () => {
  it('points an empty config at the data dir (0600 in 0700), and a later server replaces that pointer', async () => {
    const u = await user();
    const first = await dataDir('first', 'http://127.0.0.1:1', 'gnt_1');
    const file = userConfigPath(u.env);
    expect(await linkServer(first, 'http://127.0.0.1:1', u.env)).toEqual({ kind: 'saved', file });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ dataDir: first });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(u.xdg, 'gantry'))).mode & 0o777).toBe(0o700);
    expect(await linkServer(first, 'http://127.0.0.1:1', u.env)).toEqual({ kind: 'saved', file });

    const second = await dataDir('second', 'http://127.0.0.1:2', 'gnt_2');
    expect(await linkServer(second, 'http://127.0.0.1:2', u.env)).toEqual({
      kind: 'saved',
      file,
      replaced: first,
    });
    expect((await resolveTarget(u.env, u.cwd)).token).toBe('gnt_2');
  });

  it('never overwrites a login: says it points elsewhere, or that it already finds this server', async () => {
    const u = await user();
    const dir = await dataDir('local', 'http://127.0.0.1:7420', 'gnt_local');
    const file = await writeUserConfig({ url: 'https://gantry.example.com', token: 'gnt_remote' }, u.env);
    expect(await linkServer(dir, 'http://127.0.0.1:7420', u.env)).toEqual({
      kind: 'logged-in-elsewhere',
      file,
      url: 'https://gantry.example.com',
    });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      url: 'https://gantry.example.com',
      token: 'gnt_remote',
    });
    await writeUserConfig({ url: 'http://127.0.0.1:7420/', token: 'gnt_local' }, u.env);
    expect(await linkServer(dir, 'http://127.0.0.1:7420', u.env)).toEqual({ kind: 'logged-in', file });
  });

  it('leaves a config that is not JSON alone and says why', async () => {
    const u = await user();
    await mkdir(join(u.xdg, 'gantry'), { recursive: true });
    await writeFile(join(u.xdg, 'gantry/config.json'), 'garbage');
    const link = await linkServer(join(root, 'x'), 'http://127.0.0.1:1', u.env);
    expect(link).toMatchObject({ kind: 'failed', reason: expect.stringContaining('is not valid JSON') });
    expect(await readFile(join(u.xdg, 'gantry/config.json'), 'utf8')).toBe('garbage');
  });
});
