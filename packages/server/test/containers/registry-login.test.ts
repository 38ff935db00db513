import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LoginFileError, machineLogin } from '../../src/containers/registry-login.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';

afterAll(cleanupAll);

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** An environment with nothing of this machine's own logins in it: only the files the test writes. */
async function machine(files: { docker?: unknown; podman?: unknown; helpers?: Record<string, string> }) {
  const home = await makeTempDir('gantry-login-home-');
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: `${join(home, 'bin')}:${process.env.PATH}` };
  await mkdir(join(home, 'bin'));
  if (files.docker !== undefined) {
    await mkdir(join(home, '.docker'));
    const text = typeof files.docker === 'string' ? files.docker : JSON.stringify(files.docker);
    await writeFile(join(home, '.docker', 'config.json'), text);
  }
  if (files.podman !== undefined) {
    await mkdir(join(home, '.config', 'containers'), { recursive: true });
    await writeFile(join(home, '.config', 'containers', 'auth.json'), JSON.stringify(files.podman));
  }
  for (const [name, script] of Object.entries(files.helpers ?? {})) {
    const file = join(home, 'bin', `docker-credential-${name}`);
    await writeFile(file, `#!/bin/sh\n${script}\n`);
    await chmod(file, 0o755);
  }
  return { home, env };
}

describe("the agent machine's registry login (podman login / docker login files)", () => {
  it("reads docker login's config.json: base64 auth, keys with a scheme or /v1/ path", async () => {
    const { home, env } = await machine({
      docker: {
        auths: {
          'https://registry.example:5000/v1/': { auth: b64('ci:pa:ss') },
          'other.example': { auth: b64('someone:else') },
        },
      },
    });
    expect(await machineLogin('registry.example:5000', env)).toEqual({
      username: 'ci',
      password: 'pa:ss',
      from: join(home, '.docker', 'config.json'),
    });
    expect(await machineLogin('unknown.example', env)).toBeUndefined();
  });

  it("prefers podman's auth.json to docker's, and REGISTRY_AUTH_FILE to both", async () => {
    const { home, env } = await machine({
      docker: { auths: { 'r.example': { auth: b64('docker:one') } } },
      podman: { auths: { 'r.example': { auth: b64('podman:two') } } },
    });
    expect(await machineLogin('r.example', env)).toMatchObject({ username: 'podman', password: 'two' });
    const file = join(home, 'explicit.json');
    await writeFile(
      file,
      JSON.stringify({ auths: { 'r.example': { username: 'explicit', password: 'three' } } }),
    );
    expect(await machineLogin('r.example', { ...env, REGISTRY_AUTH_FILE: file })).toEqual({
      username: 'explicit',
      password: 'three',
      from: file,
    });
  });

  it('asks credential helpers by the helper protocol: credHelpers for one registry, credsStore for the rest', async () => {
    const { home, env } = await machine({
      docker: { credHelpers: { 'ecr.example': 'one' }, credsStore: 'store', auths: { 'plain.example': {} } },
      helpers: {
        // The registry arrives on stdin; the answer is JSON on stdout.
        one: 'read r; printf \'{"ServerURL":"%s","Username":"from-helper","Secret":"s-%s"}\' "$r" "$r"',
        store:
          'read r; if [ "$r" = plain.example ]; then echo \'{"Username":"stored","Secret":"kept"}\'; else echo "credentials not found in native keychain"; exit 1; fi',
      },
    });
    const config = join(home, '.docker', 'config.json');
    expect(await machineLogin('ecr.example', env)).toEqual({
      username: 'from-helper',
      password: 's-ecr.example',
      from: `${config} (docker-credential-one)`,
    });
    expect(await machineLogin('plain.example', env)).toEqual({
      username: 'stored',
      password: 'kept',
      from: `${config} (docker-credential-store)`,
    });
    // The store has none for this one: no login, not an error.
    expect(await machineLogin('nothing.example', env)).toBeUndefined();
  });

  it('fails saying which file or helper is broken', async () => {
    const broken = await machine({ docker: '{ not json' });
    const err = await machineLogin('r.example', broken.env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginFileError);
    expect((err as Error).message).toMatch(
      new RegExp(`^the registry login file ${join(broken.home, '.docker', 'config.json')} is not JSON`),
    );

    const failing = await machine({
      docker: { credHelpers: { 'r.example': 'broken' } },
      helpers: { broken: 'echo "keychain locked" >&2; exit 3' },
    });
    await expect(machineLogin('r.example', failing.env)).rejects.toThrow(
      'the credential helper docker-credential-broken failed (exit 3): keychain locked',
    );
    const missing = await machine({ docker: { credHelpers: { 'r.example': 'absent' } } });
    await expect(machineLogin('r.example', missing.env)).rejects.toThrow(
      /^the credential helper docker-credential-absent could not run \(spawn docker-credential-absent ENOENT\)/,
    );
    const token = await machine({ docker: { auths: { 'r.example': { identitytoken: 'x' } } } });
    await expect(machineLogin('r.example', token.env)).rejects.toThrow(/is an identity token/);
  });
});
