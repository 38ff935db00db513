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
});

export interface ServerRoutesDeps {
  sandbox: Pick<Sandbox, 'status'>;
}

/** `GET /api/server`: what this server is and where it runs builds (`gantry status` warns from it). */
export function serverRoutes(r: TypedApp, g: ServerRoutesDeps): void {
  r.get(
    '/api/server',
    {
      schema: {
        tags: ['server'],
        summary: 'The server: its version and its build sandbox (mode, active, reason)',
        response: { 200: serverInfo },
      },
    },
    async () => ({ version, sandbox: { ...g.sandbox.status } }),
  );
}
