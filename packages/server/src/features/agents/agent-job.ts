/** What the agent API hands an agent and takes back (agent-service.ts, agent-worker.ts). */

export interface AgentInfo {
  id: string;
  name: string;
  labels: string[];
  createdAt: string;
  /** When it last asked for work: a build, or a host's driver calls. */
  lastSeenAt: string | null;
  revokedAt: string | null;
  /** It asked within the stale limit (GANTRY_STALE_AFTER_MS) and is not revoked. */
  connected: boolean;
  /** The hosts (gantry.yaml `hosts` labels) its processes hold now. */
  hosts: { host: string; seenAt: string; expiresAt: string }[];
}

/** What an agent gets when it claims a build: everything it needs, and nothing of the server's. */
export interface AgentJob {
  lease: string;
  build: { id: string; app: string; sha: string; attempt: number; sloMs: number; startedAt: string };
  steps: { name: string; run: string; timeout: number | null }[];
  artifactPath: string;
  env: Record<string, string>;
  network: boolean;
  /** The values of `build.secrets`, as the servers' own runners give them to the steps. */
  secrets: Record<string, string>;
  /**
   * `build.cache`: folders the agent keeps between builds on its machine, under the key the server
   * computes from the lock files at the commit (its mirror), as its own runners do.
   */
  cache?: { key: string; folders: string[] };
  /**
   * `build.image`: the agent builds the image with its machine's engine after the steps and pushes
   * it with that engine's own registry login. No credentials: the server never sends the registry's.
   */
  image?: AgentImageJob;
}

/** The image an agent builds and pushes: where to, and how (base or Dockerfile). */
export interface AgentImageJob {
  /** `<registry>/<repository>`, pushed as `<name>:<tag>`. */
  name: string;
  /** The build's SHA. */
  tag: string;
  /** `host[:port]` of the registry. */
  registry: string;
  /** Its API root's origin, `http(s)://host[:port]`: the agent checks it reaches it before building. */
  registryUrl: string;
  base?: string;
  dockerfile?: string;
  /** `run.command`, a base image's entrypoint. */
  command: string;
  /** The repository URL (no credentials) for the `org.opencontainers.image.source` label. */
  source: string;
}

export type AgentFinish =
  | { status: 'succeeded'; kind?: 'tarball'; digest: string; size: number }
  /** Pushed: the server reads the digest from the registry; a digest sent must be the registry's. */
  | { status: 'succeeded'; kind: 'image'; digest?: string; tail?: string }
  | { status: 'failed' | 'cancelled'; error: string; exitCode: number | null };
