import type { ImageArtifact, Release } from '@gantry/driver-api';
import type Docker from 'dockerode';
import { followProgress } from '../../containers/engine.js';
import { DeploymentCancelled } from './container-kit.js';

/** Docker API errors carry the HTTP status; 404 (no such container) and 304 (already so) are often fine. */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** The engine's own reason, without dockerode's "(HTTP code 500) server error -" prefix. */
export function reasonOf(err: unknown): string {
  const e = err as { json?: { message?: string; cause?: string }; message?: string };
  return (e.json?.message ?? e.message ?? String(err)).replace(/^\(HTTP code \d+\)[^-]*- /, '').trim();
}

export function imageOf(release: Release): ImageArtifact {
  const a = release.artifact;
  if (a.kind !== 'image') {
    throw new Error(
      `the container driver runs images, but ${release.sha.slice(0, 12)} was built as a tar.gz artifact (${a.path}); build it as an image (build.image in gantry.yaml) or use driver: process`,
    );
  }
  if (!/@sha256:[0-9a-f]{64}$/.test(a.reference)) {
    throw new Error(
      `image reference ${a.reference} is not pinned by digest (<registry>/<repository>@sha256:…)`,
    );
  }
  return a;
}

/**
 * Pulls the image by its digest, honouring the registry's credentials and `insecure` (podman takes
 * `tlsVerify=false`; Docker needs the registry in its `insecure-registries`). When the registry
 * cannot be reached but the engine already has the image, that copy is used.
 */
export async function pullImage(
  docker: Docker,
  image: ImageArtifact,
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<void> {
  // A reference by digest names the same bytes forever: what the engine has needs no pull (a cold
  // rollback to an image it ran before starts at once). The registry was asked when the request came in.
  const present = await docker
    .getImage(image.reference)
    .inspect()
    .catch(() => null);
  if (present) {
    onLine(`the engine has ${image.reference} already; no pull`);
    return;
  }
  const auth = image.registry?.auth;
  const opts: Record<string, unknown> = { fromImage: image.reference, abortSignal: signal };
  if (image.registry?.insecure) opts.tlsVerify = false;
  try {
    const stream = await docker.createImage(
      auth
        ? { username: auth.username, password: auth.password, serveraddress: registryOf(image.reference) }
        : undefined,
      opts,
    );
    // Docker reports each layer's progress many times a second; the deployment log keeps the steps.
    let last = '';
    await followProgress(docker, stream, (line) => {
      if (/\[[=> ]*\]/.test(line) || line === last) return;
      last = line;
      onLine(line);
    });
  } catch (err) {
    if (signal.aborted) throw new DeploymentCancelled(`the pull of ${image.reference} was cancelled`);
    const local = await docker
      .getImage(image.reference)
      .inspect()
      .catch(() => null);
    if (local) {
      onLine(`pull failed (${reasonOf(err)}); using the copy the engine already has`);
      return;
    }
    throw new Error(
      `cannot pull image ${image.reference}: ${reasonOf(err)}${image.registry?.insecure ? '' : hintTls(err)}`,
    );
  }
}

function hintTls(err: unknown): string {
  return /https|tls|x509|certificate/i.test(reasonOf(err))
    ? ' (a plain-HTTP registry must be marked insecure, for Gantry and for the engine)'
    : '';
}

/** `host[:port]` of an image reference (the part before the first slash). */
export function registryOf(reference: string): string {
  return reference.split('/')[0] ?? reference;
}

export interface ContainerStatus {
  running: boolean;
  exitCode: number | null;
  /** e.g. 'OOMKilled' or the engine's error for a container that could not run. */
  detail: string;
}

/** Null when the container no longer exists. */
export async function containerStatus(docker: Docker, idOrName: string): Promise<ContainerStatus | null> {
  try {
    const info = await docker.getContainer(idOrName).inspect();
    const s = info.State;
    const detail = [s.OOMKilled ? 'killed for running out of memory' : '', s.Error ?? '']
      .filter(Boolean)
      .join('; ');
    return { running: s.Running && !s.Restarting, exitCode: s.Running ? null : s.ExitCode, detail };
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

/** Stops (TERM, KILL after `timeoutS`) and removes; a container already gone is fine. */
export async function stopAndRemove(docker: Docker, idOrName: string, timeoutS: number): Promise<void> {
  const c = docker.getContainer(idOrName);
  try {
    await c.stop({ t: timeoutS });
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) return;
    if (status !== 304) await c.kill().catch(() => undefined);
  }
  await c.remove({ force: true, v: true }).catch((err: unknown) => {
    if (statusOf(err) !== 404) throw err;
  });
}

export async function listContainers(docker: Docker, filters: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters });
}

/** The last `lines` lines the container wrote (stdout and stderr together). */
export async function lastLogLines(docker: Docker, idOrName: string, lines = 20): Promise<string> {
  try {
    const raw = (await docker
      .getContainer(idOrName)
      .logs({ stdout: true, stderr: true, follow: false, tail: lines })) as unknown as Buffer;
    const text = demux(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).trimEnd();
    return text || '(the container wrote no log lines)';
  } catch (err) {
    return `(its logs could not be read: ${reasonOf(err)})`;
  }
}

/** Docker's multiplexed log format (8-byte frame headers) to plain text; plain text passes through. */
export function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const kind = buf[at];
    if (
      (kind !== 0 && kind !== 1 && kind !== 2) ||
      buf[at + 1] !== 0 ||
      buf[at + 2] !== 0 ||
      buf[at + 3] !== 0
    ) {
      return buf.toString('utf8');
    }
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  if (at < buf.length && parts.length === 0) return buf.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}
