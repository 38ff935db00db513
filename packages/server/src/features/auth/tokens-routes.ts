import { z } from 'zod';
import type { Gantry } from '../../gantry.js';
import { actorOf, type TypedApp } from '../../http/http-app.js';

export function tokensRoutes(r: TypedApp, g: Gantry): void {
  r.post(
    '/api/tokens',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API token; it is shown once and stored hashed',
        body: z.object({
          name: z.string().min(1).max(100),
          role: z.enum(['admin', 'hook']).default('admin'),
        }),
      },
    },
    async (req, reply) => {
      reply.status(201);
      return g.tokens.create(req.body.name, req.body.role, actorOf(req));
    },
  );
}
