import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the API, the SDKs or operators; every other GET is the console's. */
const NOT_CONSOLE = /^\/(api|ofrep)(\/|$)|^\/(metrics|healthz)$/;

/** A GET for a page or a file of the web console: public, because the bundle holds no secret. */
export function isConsoleRequest(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && !NOT_CONSOLE.test(path);
}

/**
 * `/metrics` is Prometheus's scrape for a machine and the console's metrics page for a person: a GET
 * that asks for HTML first and carries no Authorization header (a browser's navigation or reload)
 * gets the page; scrapers send a token and ask for text.
 */
export function isConsolePage(req: Pick<FastifyRequest, 'method' | 'url' | 'headers'>): boolean {
  const path = req.url.split('?')[0] ?? '';
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    path === '/metrics' &&
    !req.headers.authorization &&
    /^text\/html/.test(req.headers.accept ?? '')
  );
}

/**
 * Where the console's built files are: GANTRY_WEB_DIR, or the `@gantry/web` package's `dist`, or in an
 * installed package (scripts/pack.mjs) the `web` folder beside the server's bundle.
 */
export function webConsoleDir(configured?: string): string | undefined {
  if (configured) return configured;
  try {
    const pkg = createRequire(import.meta.url).resolve('@gantry/web/package.json');
    return join(dirname(pkg), 'dist');
  } catch {
    const installed = fileURLToPath(new URL('../web', import.meta.url));
    return existsSync(join(installed, 'index.html')) ? installed : undefined;
  }
}

const NOT_BUILT = (dir: string | undefined) => `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Gantry</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>The Gantry console is not built</h1>
<p>This server found no built console${dir ? ` in <code>${dir.replace(/[<>&]/g, '')}</code>` : ''}.
Run <code>npm run build</code> in the Gantry checkout (<code>npm ci</code> does it too), or point
<code>GANTRY_WEB_DIR</code> at a built console. The API under <code>/api</code> works without it.</p>
</body></html>`;

/**
 * The web console: hashed assets with a year's cache, `index.html` never cached, and every other
 * console path answered with `index.html` so the browser's router shows the page (history fallback).
 */
export async function registerWebConsole(app: FastifyInstance, configuredDir?: string): Promise<void> {
  const dir = webConsoleDir(configuredDir);
  const indexFile = dir ? join(dir, 'index.html') : undefined;
  const built = indexFile !== undefined && existsSync(indexFile);
  if (built && dir) {
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      index: false,
      wildcard: true,
      cacheControl: false,
      setHeaders(res, path) {
        res.header(
          'cache-control',
          /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  }
  // Read per request: a rebuilt console is served without a restart.
  const index = () => (built && indexFile ? readFileSync(indexFile, 'utf8') : NOT_BUILT(dir));
  const sendIndex = (reply: FastifyReply) =>
    reply
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      )
      .send(index());
  app.get('/', { schema: { hide: true }, config: { access: 'public' } }, async (_req, reply) =>
    sendIndex(reply),
  );
  app.addHook('onRequest', async (req, reply) => {
    if (isConsolePage(req)) return sendIndex(reply);
  });
  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '';
    // A missing asset is a 404, not the page: a stale tab must not parse HTML as JavaScript.
    if (isConsoleRequest(req.method, path) && !/^\/assets\//.test(path) && !/\.[a-z0-9]+$/i.test(path)) {
      return sendIndex(reply);
    }
    return reply.code(404).send({
      error: 'NotFound',
      message: `no route ${req.method} ${path}; the API is under /api (GET /api/openapi.json lists it)`,
    });
  });
}
