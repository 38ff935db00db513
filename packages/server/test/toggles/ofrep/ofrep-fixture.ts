import type { TestServer } from '../../support/test-server.js';

export async function clientToken(server: TestServer, app: string, env: string): Promise<string> {
  const res = await server.api<{ token: string }>('POST', `/api/apps/${app}/client-tokens`, { env });
  if (res.status !== 201) throw new Error(`client token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** Admin API calls that must succeed. */
export async function admin(server: TestServer, method: string, path: string, body?: unknown): Promise<void> {
  const res = await server.api(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function createToggle(
  server: TestServer,
  name: string,
  production?: Record<string, unknown>,
): Promise<void> {
  await admin(server, 'POST', '/api/apps/shop/toggles', { name });
  if (production)
    await admin(server, 'PUT', `/api/apps/shop/toggles/${name}/environments/production`, production);
}

/** An OFREP request as a provider sends it. */
export function ofrep(
  server: TestServer,
  path: string,
  init: { headers?: Record<string, string>; body?: string; context?: Record<string, unknown> } = {},
): Promise<Response> {
  return fetch(`${server.url}/ofrep/v1/evaluate/flags${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...init.headers },
    body: init.body ?? JSON.stringify({ context: init.context ?? {} }),
  });
}
