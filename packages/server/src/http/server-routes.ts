import { createRequire } from 'node:module';
import { z } from 'zod';
import type { Sandbox } from '../sandbox/host-sandbox.js';
import { sandboxModes } from '../sandbox/sandbox.js';
import type { TypedApp } from './route-kit.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const serverInfo = z.object({
  version: z.string(),
  sandbox: z.object({
    mode: z.enum(sandboxModes as [string, ...string[]]),
    active: z.boolean().describe('false: build steps and deploy scripts run without a sandbox'),
    reason: z.string(),
  }),
  cluster: z
    .object({
      instance: z.string().describe('this server process (host:pid:random), as leases and runners name it'),
      shared: z.boolean().describe('true on PostgreSQL: other servers may share the database'),
      leader: z
        .boolean()
        .describe('whether this server polls repositories, applies scheduled releases and runs retention'),
    })
    .describe('several servers on one PostgreSQL database (docs/architecture.md, "Several servers")'),
});

export interface ServerRoutesDeps {
  sandbox: Pick<Sandbox, 'status'>;
  leader: { readonly isLeader: boolean; readonly elected: boolean };
  deployer: { readonly id: string };
}

/** `GET /api/server`: what this server is and where it runs builds (`gantry status` warns from it). */
export function serverRoutes(r: TypedApp, g: ServerRoutesDeps): void {
  r.get(
    '/api/server',
    {
      config: { access: 'signed-in' },
      schema: {
        tags: ['server'],
        summary:
          'The server: its version, its build sandbox (mode, active, reason) and its part in a cluster',
        response: { 200: serverInfo },
      },
    },
    async () => ({
      version,
      sandbox: { ...g.sandbox.status },
      cluster: { instance: g.deployer.id, shared: g.leader.elected, leader: g.leader.isLeader },
    }),
  );
}
