import { describe } from 'vitest';

/**
 * Set by test/global-setup.ts from `scripts/containers/setup.sh --env` when podman's Docker Engine
 * API service and the local registry run here; CI requires them (GANTRY_REQUIRE_CONTAINERS=1).
 */
export const containersAvailable = Boolean(
  process.env.DOCKER_HOST &&
    process.env.GANTRY_TEST_REGISTRY &&
    process.env.GANTRY_TEST_BASE_BUSYBOX &&
    process.env.GANTRY_TEST_BASE_NODE,
);

/** The Docker Engine API endpoint (`unix:///…/podman.sock`), as dockerode and the docker CLI take it. */
export const dockerHost = process.env.DOCKER_HOST ?? '';

/** The unix socket path of `dockerHost`, for node:http's `socketPath` (undefined for tcp://). */
export const dockerSocket = dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : undefined;

/** The local registry, `127.0.0.1:<port>`: plain HTTP, marked insecure for podman (registries.conf). */
export const registry = process.env.GANTRY_TEST_REGISTRY ?? '';

/**
 * Base images in the registry and in podman's storage (no public registry is reachable here):
 * busybox-static with its applets on PATH, CMD /bin/sh; and the same plus the host's own node
 * (`node` on PATH, no CMD), so `process.version` inside equals the host's.
 */
export const baseImages = {
  busybox: process.env.GANTRY_TEST_BASE_BUSYBOX ?? '',
  node: process.env.GANTRY_TEST_BASE_NODE ?? '',
};

/** A describe that runs only when the containers are set up (always in CI). */
export const describeContainers = describe.runIf(containersAvailable);
