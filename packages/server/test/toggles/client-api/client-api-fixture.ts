import { InMemStorageProvider, Unleash } from 'unleash-client';
import type { TestServer } from '../../support/test-server.js';

export type ClientToken = { id: string; token: string; app: string; env: string };

export async function clientToken(server: TestServer, app: string, env: string): Promise<string> {
  const res = await server.api<ClientToken>('POST', `/api/apps/${app}/client-tokens`, { env });
  if (res.status !== 201) throw new Error(`client token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** A request as an SDK sends it: the token raw in `Authorization`. */
export function sdkFetch(
  server: TestServer,
  path: string,
  token: string | undefined,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(token === undefined ? {} : { authorization: token }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

export interface SdkOptions {
  appName?: string;
  refreshInterval?: number;
  metricsInterval?: number;
  disableMetrics?: boolean;
  streaming?: boolean;
  /** Polls `/api/client/delta` (`experimentalMode: { type: 'polling', format: 'delta' }`). */
  delta?: boolean;
  instanceId?: string;
}

/** The real `unleash-client` against our server, resolved once it has synchronized. */
export async function startSdk(server: TestServer, token: string, o: SdkOptions = {}): Promise<Unleash> {
  const unleash = new Unleash({
    url: `${server.url}/api/`,
    appName: o.appName ?? 'sdk-test',
    ...(o.instanceId && { instanceId: o.instanceId }),
    customHeaders: { Authorization: token },
    refreshInterval: o.refreshInterval ?? 200,
    metricsInterval: o.metricsInterval ?? 200,
    disableMetrics: o.disableMetrics ?? false,
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
    ...(o.streaming && { experimentalMode: { type: 'streaming' as const } }),
    ...(o.delta && { experimentalMode: { type: 'polling' as const, format: 'delta' as const } }),
  });
  const errors: unknown[] = [];
  unleash.on('error', (e: unknown) => errors.push(e));
  unleash.on('warn', () => {});
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`SDK did not synchronize: ${errors.map(String).join('; ')}`)),
      10_000,
    );
    unleash.once('synchronized', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return unleash;
}

/** Polls until `check` holds (SDK state changes arrive asynchronously). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 5_000,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}
