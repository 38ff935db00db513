import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A registry login found on this machine, and where. */
export interface MachineLogin {
  username: string;
  password: string;
  /** The file (and helper, when one keeps the secret) it came from, for logs: never the secret. */
  from: string;
}

/** A login file that exists but cannot be used: the build fails saying which and why. */
export class LoginFileError extends Error {
  override name = 'LoginFileError';
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/**
 * The files an engine's own client reads its login from, in the order podman and the docker CLI
 * look: `REGISTRY_AUTH_FILE`, podman's `auth.json` (runtime dir, then config dir), the docker CLI's
 * `config.json` (`DOCKER_CONFIG` or `~/.docker`).
 */
export function loginFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir();
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(join(env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'auth.json'));
  files.push(join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json'));
  return files;
}

/** `https://host:port/v1/` → `host:port`; Docker Hub's names are one. */
function registryKey(name: string): string {
  const host = name
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return host === 'docker.io' || host === 'registry-1.docker.io' ? 'index.docker.io' : host;
}

/**
 * The login this machine's container tooling keeps for `registry` (`host[:port]`), as `podman
 * login` or `docker login` wrote it: an `auths` entry, or a credential helper (`credHelpers`,
 * `credsStore`) asked with the helper protocol (`docker-credential-<name> get`). The Docker daemon
 * keeps no login of its own (its CLI sends one with each push), so an agent sends this one.
 * Undefined when none of the files has one; a file that is not JSON, or a helper that fails,
 * throws a {@link LoginFileError} naming it.
 */
export async function machineLogin(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MachineLogin | undefined> {
  const want = registryKey(registry);
  for (const file of loginFiles(env)) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
        continue;
      throw new LoginFileError(`cannot read the registry login file ${file}: ${(e as Error).message}`);
    }
    let parsed: AuthFile;
    try {
      parsed = JSON.parse(text) as AuthFile;
    } catch (e) {
      throw new LoginFileError(
        `the registry login file ${file} is not JSON (${(e as Error).message}); log in again (podman login or docker login) or remove it`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null) continue;
    const helper = Object.entries(parsed.credHelpers ?? {}).find(([k]) => registryKey(k) === want)?.[1];
    if (helper) {
      const got = await askHelper(helper, want, env);
      if (got) return { ...got, from: `${file} (docker-credential-${helper})` };
      continue;
    }
    const entry = Object.entries(parsed.auths ?? {}).find(([k]) => registryKey(k) === want)?.[1];
    const login = entry && fromEntry(entry);
    if (login === 'token')
      throw new LoginFileError(
        `the login for ${registry} in ${file} is an identity token (an OAuth login), which Gantry cannot send to the engine; log in with a username and password or token`,
      );
    if (login) return { ...login, from: file };
    if (parsed.credsStore) {
      const got = await askHelper(parsed.credsStore, want, env);
      if (got) return { ...got, from: `${file} (docker-credential-${parsed.credsStore})` };
    }
  }
  return undefined;
}

function fromEntry(
  e: NonNullable<AuthFile['auths']>[string],
): { username: string; password: string } | 'token' | undefined {
  if (e.identitytoken) return 'token';
  if (e.username && e.password) return { username: e.username, password: e.password };
  if (!e.auth) return undefined;
  const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The credential helper protocol: the registry on stdin, `{"Username","Secret"}` on stdout. */
function askHelper(
  name: string,
  registry: string,
  env: NodeJS.ProcessEnv,
): Promise<{ username: string; password: string } | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    return Promise.reject(
      new LoginFileError(`credential helper name ${JSON.stringify(name)} is not a plain name`),
    );
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 15_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    child.on('error', (e) =>
      reject(
        new LoginFileError(
          `the credential helper ${program} could not run (${e.message}); install it or remove it from the login file`,
        ),
      ),
    );
    child.on('close', (code) => {
      // The protocol's answer for "no login for this registry".
      if (code !== 0 && /credentials not found/i.test(out + err)) return resolve(undefined);
      if (code !== 0)
        return reject(
          new LoginFileError(
            `the credential helper ${program} failed (exit ${code}): ${(err || out).trim().slice(0, 300)}`,
          ),
        );
      try {
        const j = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!j.Username || !j.Secret) return resolve(undefined);
        resolve({ username: j.Username, password: j.Secret });
      } catch {
        reject(new LoginFileError(`the credential helper ${program} answered something that is not JSON`));
      }
    });
    // A helper that exits without reading its input (or never started) closes the pipe: its exit
    // code or the spawn error says what went wrong, not the write.
    child.stdin.on('error', () => undefined);
    child.stdin.end(registry === 'index.docker.io' ? 'https://index.docker.io/v1/' : registry);
  });
}
