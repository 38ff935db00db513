import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { InvalidInput } from '../../errors.js';

const WITH_SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i;
// git's own rule: a colon before the first slash means scp-like `[user@]host:path`.
const SCP_LIKE = /^(?:[^@/]+@)?([^/:]+):(.*)$/;

/**
 * Reduces a clone URL to `host/owner/repo` (or an absolute path for local repositories) so that
 * `https://github.com/o/r.git`, `git@github.com:o/r.git` and `ssh://git@github.com:22/o/r` compare equal.
 */
export function normaliseRepoUrl(url: string): string {
  const input = url.trim();
  if (input === '') throw new InvalidInput('repository URL is empty');
  const withScheme = WITH_SCHEME.exec(input);
  if (withScheme) {
    const [, scheme = '', rest = ''] = withScheme;
    if (scheme.toLowerCase() === 'file') {
      const slash = rest.indexOf('/');
      if (slash === -1) throw new InvalidInput(`file URL has no path: ${url}`);
      return localPath(decodePath(rest.slice(slash)));
    }
    const authorityEnd = rest.search(/[/?#]/);
    const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
    const path = authorityEnd === -1 ? '' : rest.slice(authorityEnd).replace(/[?#].*$/, '');
    return remote(stripPort(authority.slice(authority.lastIndexOf('@') + 1)), decodePath(path));
  }
  if (/^[/.~]/.test(input)) return localPath(input);
  const scp = SCP_LIKE.exec(input);
  if (scp) return remote(scp[1] ?? '', scp[2] ?? '');
  return localPath(input);
}

function remote(host: string, path: string): string {
  const cleanPath = path
    .replace(/\/{2,}/g, '/')
    .replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
  const cleanHost = host.toLowerCase();
  return cleanPath === '' ? cleanHost : `${cleanHost}/${cleanPath}`;
}

// Ports are dropped with the scheme: the same repository is often served over HTTP and SSH on different ports.
function stripPort(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(0, hostPort.indexOf(']') + 1);
  return hostPort.replace(/:\d*$/, '');
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

// `.git` stays on local paths: `/srv/app.git` (bare) and `/srv/app` are different directories.
function localPath(path: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
  return resolve(expanded);
}
