/**
 * The container engine Gantry talks to: anything that speaks Docker Engine's API (Docker itself,
 * or podman's `podman system service`). Found from DOCKER_HOST, else the usual sockets. Shared by
 * image builds (features/builds) and the container driver (drivers/container).
 */
import { existsSync } from 'node:fs';
import type Docker from 'dockerode';

export interface Engine {
  docker: Docker;
  /** Where it was found, e.g. `unix:///run/podman/podman.sock`. */
  endpoint: string;
  /** What answered, e.g. `podman 4.3.1 (Docker API 1.41)`, for build logs and `gantry status`. */
  description: string;
}

/**
 * A client for an endpoint. dockerode (with its gRPC and protobuf dependencies) is loaded on first
 * use, so a server that never meets an image or a container does not pay for it at start.
 */
export async function dockerClient(options: Docker.DockerOptions): Promise<Docker> {
  const { default: DockerClient } = await import('dockerode');
  return new DockerClient(options);
}

/** Candidate sockets when DOCKER_HOST is unset, in order. */
export function defaultSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const runtime = env.XDG_RUNTIME_DIR;
  return [
    '/var/run/docker.sock',
    ...(runtime ? [`${runtime}/podman/podman.sock`, `${runtime}/docker.sock`] : []),
    '/run/podman/podman.sock',
  ];
}

export class EngineUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailable';
  }
}

const HOW_TO_GET_ONE =
  'start Docker, or podman\'s API service (`podman system service --time=0 unix:///run/podman/podman.sock`), and set DOCKER_HOST to its socket (e.g. unix:///run/podman/podman.sock); on this project\'s machines `eval "$(scripts/containers/setup.sh --env)"` does both';

/** Dockerode options for a DOCKER_HOST value (unix://, tcp://, http(s)://). */
export function engineOptions(host: string): Docker.DockerOptions {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return {
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 2376 : 2375,
  };
}

/**
 * Connects to the engine and checks it answers, or throws EngineUnavailable saying where it looked
 * and how to get one.
 */
export async function connectEngine(env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const configured = env.DOCKER_HOST?.trim();
  const candidates = configured ? [configured] : defaultSockets(env).filter((s) => existsSync(s));
  if (!candidates.length) {
    throw new EngineUnavailable(
      `no container engine found: DOCKER_HOST is not set and none of ${defaultSockets(env).join(', ')} exists; ${HOW_TO_GET_ONE}`,
    );
  }
  const problems: string[] = [];
  for (const candidate of candidates) {
    const endpoint = candidate.startsWith('/') ? `unix://${candidate}` : candidate;
    const docker = await dockerClient({ ...engineOptions(candidate), timeout: 10_000 });
    try {
      const version = (await docker.version()) as Docker.DockerVersion & {
        Components?: { Name: string; Version: string }[];
      };
      const podman = version.Components?.find((c) => /podman/i.test(c.Name));
      const product = podman ? `podman ${podman.Version}` : `Docker ${version.Version}`;
      return {
        docker,
        endpoint,
        description: `${product} (Docker API ${version.ApiVersion}) at ${endpoint}`,
      };
    } catch (err) {
      problems.push(`${endpoint}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new EngineUnavailable(`no container engine answers (${problems.join('; ')}); ${HOW_TO_GET_ONE}`);
}

/** Follows a build or push stream to its end; rejects with the engine's own error line. */
export function followProgress(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onLine: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: EngineMessage[]) => {
        if (err) return reject(err);
        const failed = output?.find((m) => m.error || m.errorDetail);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error ?? 'failed'));
        resolve();
      },
      (m: EngineMessage) => {
        const line = messageLine(m);
        if (line) onLine(line);
      },
    );
  });
}

export interface EngineMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string; Digest?: string };
}

function messageLine(m: EngineMessage): string | null {
  if (m.error || m.errorDetail) return `error: ${m.errorDetail?.message ?? m.error}`;
  if (m.stream !== undefined) return m.stream.replace(/\n$/, '') || null;
  if (m.status) return [m.id, m.status, m.progress].filter(Boolean).join(' ');
  return null;
}
