import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, probeHost } from '../../src/sandbox/host-sandbox.js';
import { allowlistedEnv, bwrapArgs, type HostLayout, sandboxLogLine } from '../../src/sandbox/sandbox.js';
import { HAS_BWRAP } from '../support/sandbox-fixtures.js';

const run = promisify(execFile);

const LAYOUT: HostLayout = {
  bwrap: '/usr/bin/bwrap',
  readOnly: ['/usr', '/etc', '/opt/node'],
  symlinks: [{ path: '/bin', target: 'usr/bin' }],
  maskFiles: ['/etc/shadow'],
  maskDirs: ['/etc/ssl/private'],
};

describe('allowlistedEnv', () => {
  it('keeps PATH, LANG and TZ from the host, adds CI, then the given variables; nothing else', () => {
    const host = {
      PATH: '/bin',
      LANG: 'C.UTF-8',
      GANTRY_TOKEN: 't',
      GANTRY_DATABASE_URL: 'pg',
      AWS_SECRET: 'x',
    };
    expect(allowlistedEnv(host, { A: '1' }, { HOME: '/w/.home', B: undefined })).toEqual({
      PATH: '/bin',
      LANG: 'C.UTF-8',
      CI: 'true',
      A: '1',
      HOME: '/w/.home',
    });
    expect(allowlistedEnv({ TZ: 'UTC' })).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin',
      TZ: 'UTC',
      CI: 'true',
    });
  });
});

describe('bwrapArgs', () => {
  const spec = { readWrite: ['/data/work/b1'], readOnly: ['/data/artifacts/x.tar.gz'], cwd: '/data/work/b1' };

  it('unshares pid, ipc and uts, keeps the network unless told, and sets only the given environment', () => {
    const on = bwrapArgs(LAYOUT, [], { ...spec, env: { PATH: '/bin', X: 'y z' }, network: true });
    for (const flag of ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--clearenv'])
      expect(on).toContain(flag);
    expect(on).not.toContain('--unshare-net');
    // The step's own session, so that a stop can TERM it without ending bwrap first.
    expect(on).toContain('--new-session');
    expect(on.slice(on.indexOf('--clearenv'))).toEqual([
      '--clearenv',
      '--setenv',
      'PATH',
      '/bin',
      '--setenv',
      'X',
      'y z',
    ]);
    expect(bwrapArgs(LAYOUT, [], { ...spec, env: {}, network: false })).toContain('--unshare-net');
  });

  it('binds the toolchain read-only, masks private files, gives a fresh /proc, /dev and /tmp, then the spec', () => {
    const args = bwrapArgs(LAYOUT, [], { ...spec, env: {}, network: true }).join(' ');
    expect(args).toContain('--ro-bind /usr /usr --ro-bind /etc /etc --ro-bind /opt/node /opt/node');
    expect(args).toContain('--symlink usr/bin /bin');
    expect(args).toContain('--ro-bind /dev/null /etc/shadow --tmpfs /etc/ssl/private');
    expect(args).toContain('--proc /proc --dev /dev --tmpfs /tmp');
    expect(args).toContain('--bind /data/work/b1 /data/work/b1 --ro-bind-try /data/artifacts/x.tar.gz');
    expect(args).toContain('--chdir /data/work/b1');
  });

  it('empties a hidden folder that a read-only folder would show, before binding the spec inside it', () => {
    const args = bwrapArgs(LAYOUT, ['/etc/gantry', '/srv/gantry'], {
      readWrite: ['/etc/gantry/work/b1'],
      cwd: '/',
      env: {},
      network: true,
    }).join(' ');
    expect(args).toContain('--tmpfs /etc/gantry --bind /etc/gantry/work/b1 /etc/gantry/work/b1');
    // Not under a bound folder: nothing shows it in the first place.
    expect(args).not.toContain('/srv/gantry');
  });
});

describe('sandboxLogLine', () => {
  it('names the sandbox and the network, or warns', () => {
    expect(sandboxLogLine({ mode: 'auto', active: true, reason: '' }, false)).toBe(
      'gantry: sandbox bwrap (network off)',
    );
    expect(sandboxLogLine({ mode: 'auto', active: false, reason: 'bwrap not found' }, true)).toMatch(
      /^gantry: WARNING no sandbox: bwrap not found;/,
    );
  });
});

describe('createSandbox', () => {
  it('off is inactive; auto without bwrap is inactive with the reason; bwrap without it fails the start', async () => {
    expect((await createSandbox({ mode: 'off', hidden: [] })).status).toEqual({
      mode: 'off',
      active: false,
      reason: 'builds.sandbox is off',
    });
    const auto = await createSandbox({ mode: 'auto', hidden: [], bwrap: '/nonexistent/bwrap' });
    expect(auto.status).toMatchObject({ mode: 'auto', active: false });
    expect(auto.status.reason).toContain('bwrap not found');
    expect(auto.wrap({ readWrite: [], cwd: '/', env: {}, network: true })).toEqual([]);
    await expect(createSandbox({ mode: 'bwrap', hidden: [], bwrap: '/nonexistent/bwrap' })).rejects.toThrow(
      'builds.sandbox is bwrap, but bwrap not found (install the bubblewrap package)',
    );
  });

  it('auto with a bwrap that does not work is inactive, and says what it answered', async () => {
    const auto = await createSandbox({ mode: 'auto', hidden: [], bwrap: '/bin/false' });
    expect(auto.status).toMatchObject({ mode: 'auto', active: false });
    expect(auto.status.reason).toContain('does not work here');
  });
});

describe.skipIf(!HAS_BWRAP)('the real bubblewrap', () => {
  let root = '';
  beforeAll(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'gantry-bwrap-')));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("masks /etc's owner-only files and bind node's folder when it is not under /usr", async () => {
    const layout = await probeHost(process.env.TEST_BWRAP!);
    const shadow = await stat('/etc/shadow').catch(() => null);
    if (shadow && (shadow.mode & 0o004) === 0) expect(layout.maskFiles).toContain('/etc/shadow');
    const node = await realpath(process.execPath);
    expect(
      [...layout.readOnly, ...layout.symlinks.map((l) => l.path)].some((p) => node.startsWith(`${p}/`)),
    ).toBe(true);
  });

  it('a data dir inside a read-only toolchain folder shows empty; the bound worktree inside it works', async () => {
    const tool = join(root, 'toolchain');
    const data = join(tool, 'gantry-data');
    const work = join(data, 'work', 'b1');
    await mkdir(work, { recursive: true });
    await writeFile(join(data, 'cli.json'), 'secret-token');
    await writeFile(join(tool, 'compiler'), 'a tool');
    const host = await probeHost(process.env.TEST_BWRAP!);
    host.readOnly.push(tool);
    const env = allowlistedEnv(process.env);
    const args = bwrapArgs(host, [data], { readWrite: [work], cwd: work, env, network: false });
    const script = `cat ${tool}/compiler; echo; ls -A ${data}; cat ${data}/cli.json; echo made > out.txt; touch ${tool}/x`;
    const out = await run(host.bwrap, [...args, 'sh', '-c', `${script} 2>&1; true`], { env });
    expect(out.stdout).toContain('a tool');
    expect(out.stdout).not.toContain('secret-token');
    expect(out.stdout).toMatch(/^work$/m);
    expect(out.stdout).toMatch(/Read-only file system/);
    expect(await readFile(join(work, 'out.txt'), 'utf8')).toBe('made\n');
  });
});
