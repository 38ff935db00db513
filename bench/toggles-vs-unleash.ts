import { pathToFileURL } from 'node:url';
import { createHookedApp, PG_URL, reachable, Scope, sleep, startBenchServer } from './support.js';
import { benchEvaluator, type EvaluatorBench } from './toggle-evaluator.js';
import { best, type LoadFigure, type LoadRequest, type LoadSettings, load, probe } from './toggle-load.js';
import { CONTEXT, createInUnleash, OFREP_KEY, SEGMENTS, TOGGLES } from './toggle-set.js';
import { startUnleashServer, type UnleashServer } from './unleash-server.js';

/** What is loaded: the Unleash client API and Frontend API on both, OFREP on Gantry. */
export type Endpoint =
  | 'features200'
  | 'features304'
  | 'delta200'
  | 'delta304'
  | 'ofrepSingle'
  | 'ofrepBulk'
  | 'frontend';

export interface Target {
  server: 'gantry-sqlite' | 'gantry-postgres' | 'unleash-server';
  endpoints: Partial<Record<Endpoint, LoadFigure>>;
}

export interface TogglesVsUnleash extends LoadSettings {
  rounds: number;
  toggles: number;
  segments: number;
  unleashVersion: string | null;
  ofrepKey: string;
  /** What unleash-server answers to an OFREP request (with its admin token, allowed everywhere): it has no such route. */
  unleashOfrep: string | null;
  /** What unleash-server answers to `GET /api/client/delta` (its delta API, with the experimental flag on). */
  unleashDelta: string | null;
  targets: Target[];
  /** Gantry on SQLite ÷ unleash-server, requests/s. */
  ratios: Partial<
    Record<
      | 'features200'
      | 'features304'
      | 'delta200'
      | 'delta304'
      | 'frontend'
      | 'ofrepSingleVsFrontend'
      | 'ofrepBulkVsFrontend',
      number
    >
  >;
  evaluator: EvaluatorBench;
  skipped: { what: string; reason: string }[];
}

export interface TogglesVsUnleashOptions extends Partial<LoadSettings> {
  rounds?: number;
  pgUrl?: string;
  evaluatorMs?: number;
}

const APP = 'flags';
// What unleash-client 6.12.1 sends; both servers get the same headers.
const SDK_HEADERS = {
  'unleash-appname': 'bench',
  'unleash-instanceid': 'bench-1',
  'unleash-sdk': 'unleash-node-sdk:6.12.1',
  'unleash-client-spec': '5.2.0',
  'unleash-connection-id': '00000000-0000-4000-8000-000000000000',
};
const JSON_TYPE = { 'content-type': 'application/json' };
const OFREP_BODY = JSON.stringify({
  context: { targetingKey: CONTEXT.userId, sessionId: CONTEXT.sessionId, ...CONTEXT.properties },
});

/**
 * The same 50 toggles in unleash-server (created through its admin API) and in Gantry (its
 * client-API answer imported), each server loaded in turn with the same autocannon settings.
 */
export async function benchTogglesVsUnleash(o: TogglesVsUnleashOptions = {}): Promise<TogglesVsUnleash> {
  const settings: LoadSettings = {
    connections: o.connections ?? 20,
    durationSec: o.durationSec ?? 5,
    warmupSec: o.warmupSec ?? 1,
  };
  const rounds = o.rounds ?? 2;
  const pgUrl = o.pgUrl ?? PG_URL;
  // First, while nothing else runs in this process.
  const evaluator = await benchEvaluator(o.evaluatorMs ?? 1000);
  const result: TogglesVsUnleash = {
    ...settings,
    rounds,
    toggles: TOGGLES.length,
    segments: SEGMENTS.length,
    unleashVersion: null,
    ofrepKey: OFREP_KEY,
    unleashOfrep: null,
    unleashDelta: null,
    targets: [],
    ratios: {},
    evaluator,
    skipped: [],
  };

  const scope = new Scope();
  try {
    const pgProblem = await reachable(pgUrl);
    let state: unknown;
    const plans: { target: Target; requests: Partial<Record<Endpoint, LoadRequest>> }[] = [];
    if (pgProblem) {
      result.skipped.push({ what: 'unleash-server and Gantry on PostgreSQL', reason: pgProblem });
      state = unleashShapedState();
    } else {
      const unleash = await startUnleashServer(scope, pgUrl);
      result.unleashVersion = unleash.version;
      await createInUnleash(unleash);
      state = await settledState(unleash);
      const ofrep = await fetch(`${unleash.url}/ofrep/v1/evaluate/flags/${OFREP_KEY}`, {
        method: 'POST',
        headers: { authorization: unleash.adminToken, ...JSON_TYPE },
        body: OFREP_BODY,
      });
      result.unleashOfrep = `${ofrep.status} ${(await ofrep.text()).slice(0, 120)}`;
      const delta = await fetch(`${unleash.url}/api/client/delta`, {
        headers: { authorization: unleash.clientToken, ...SDK_HEADERS },
      });
      result.unleashDelta = `${delta.status} ${(await delta.text()).slice(0, 120)}`;
      plans.push({
        target: { server: 'unleash-server', endpoints: {} },
        requests: unleashRequests(unleash, delta.status === 200),
      });
    }

    const engines: { server: Target['server']; url?: string }[] = [{ server: 'gantry-sqlite' }];
    if (!pgProblem) engines.push({ server: 'gantry-postgres', url: pgUrl });
    for (const { server, url } of engines) {
      const bench = await startBenchServer(scope, url);
      await createHookedApp(scope, bench, APP);
      await bench.api('POST', `/api/apps/${APP}/toggles/import?env=development`, state);
      const { token } = await bench.api<{ token: string }>('POST', `/api/apps/${APP}/client-tokens`, {
        env: 'development',
      });
      const frontend = await bench.api<{ token: string }>('POST', `/api/apps/${APP}/client-tokens`, {
        env: 'development',
        kind: 'frontend',
      });
      plans.push({
        target: { server, endpoints: {} },
        requests: gantryRequests(bench.server.url, token, frontend.token),
      });
    }
    plans.sort((a, b) => a.target.server.localeCompare(b.target.server));
    await checkSameToggles(plans.map((p) => p.requests.features200!));

    for (const { target, requests } of plans) {
      for (const [name, req] of entries(requests)) {
        if (name === 'features304' || name === 'delta304') {
          const full = name === 'features304' ? requests.features200! : requests.delta200!;
          const { etag } = await probe({ ...full, status: 200 });
          if (!etag) throw new Error(`${target.server}: no ETag on ${new URL(full.url).pathname}`);
          req.headers['if-none-match'] = etag;
        }
        const { bytes } = await probe(req);
        const path = new URL(req.url).pathname;
        target.endpoints[name] = { path, status: req.status, bytes, ...ZERO, rounds: [] };
      }
      result.targets.push(target);
    }

    // Rounds alternate between the servers, so a noisy spell on a shared machine hits all of them.
    for (let round = 0; round < rounds; round++) {
      for (const name of ENDPOINTS) {
        for (const { target, requests } of plans) {
          const req = requests[name];
          const figure = target.endpoints[name];
          if (!req || !figure) continue;
          figure.rounds.push(await load(req, settings, round === 0));
          Object.assign(figure, best(figure.rounds));
        }
      }
    }
    result.ratios = ratios(result.targets);
    return result;
  } finally {
    await scope.close();
  }
}

const ENDPOINTS: Endpoint[] = [
  'features200',
  'features304',
  'delta200',
  'delta304',
  'ofrepSingle',
  'ofrepBulk',
  'frontend',
];
const ZERO = { requestsPerSec: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, requests: 0, failed: 0 };

function entries<T>(r: Partial<Record<Endpoint, T>>): [Endpoint, T][] {
  return ENDPOINTS.flatMap((e) => (r[e] === undefined ? [] : [[e, r[e]] as [Endpoint, T]]));
}

function gantryRequests(
  url: string,
  token: string,
  frontendToken: string,
): Partial<Record<Endpoint, LoadRequest>> {
  const auth = { authorization: token };
  return {
    features200: features(url, token),
    features304: { ...features(url, token), status: 304 },
    delta200: delta(url, token),
    delta304: { ...delta(url, token), status: 304 },
    ofrepSingle: {
      method: 'POST',
      url: `${url}/ofrep/v1/evaluate/flags/${OFREP_KEY}`,
      headers: { ...auth, ...JSON_TYPE },
      body: OFREP_BODY,
      status: 200,
    },
    ofrepBulk: {
      method: 'POST',
      url: `${url}/ofrep/v1/evaluate/flags`,
      headers: { ...auth, ...JSON_TYPE },
      body: OFREP_BODY,
      status: 200,
    },
    frontend: frontendRequest(url, frontendToken),
  };
}

/** `POST /api/frontend` as unleash-proxy-client sends it with `usePOSTrequests`: every toggle evaluated for the context. */
function frontendRequest(url: string, token: string): LoadRequest {
  return {
    method: 'POST',
    url: `${url}/api/frontend`,
    headers: { authorization: token, ...JSON_TYPE },
    body: JSON.stringify({ context: CONTEXT }),
    status: 200,
  };
}

function unleashRequests(u: UnleashServer, servesDelta: boolean): Partial<Record<Endpoint, LoadRequest>> {
  return {
    features200: features(u.url, u.clientToken),
    features304: { ...features(u.url, u.clientToken), status: 304 },
    ...(servesDelta && {
      delta200: delta(u.url, u.clientToken),
      delta304: { ...delta(u.url, u.clientToken), status: 304 },
    }),
    frontend: frontendRequest(u.url, u.frontendToken),
  };
}

/** `GET /api/client/delta` as unleash-client sends it in delta mode: a hydration, or 304 with the revision. */
function delta(url: string, token: string): LoadRequest {
  return {
    method: 'GET',
    url: `${url}/api/client/delta`,
    headers: { authorization: token, ...SDK_HEADERS },
    status: 200,
  };
}

function features(url: string, token: string): LoadRequest {
  return {
    method: 'GET',
    url: `${url}/api/client/features`,
    headers: { authorization: token, ...SDK_HEADERS },
    status: 200,
  };
}

/**
 * unleash-server's client-API answer once it lists every toggle and its ETag holds still (its
 * revision id catches up with the last change within a second or so).
 */
async function settledState(u: UnleashServer): Promise<unknown> {
  const until = Date.now() + 30_000;
  let last = '';
  for (;;) {
    const res = await fetch(`${u.url}/api/client/features`, {
      headers: { authorization: u.clientToken, ...SDK_HEADERS },
    });
    const body = (await res.json()) as { features?: unknown[] };
    const etag = res.headers.get('etag') ?? '';
    if (res.ok && body.features?.length === TOGGLES.length && etag === last) return body;
    last = etag;
    if (Date.now() > until) throw new Error(`unleash-server did not settle: ${res.status}, ETag ${etag}`);
    await sleep(1_000);
  }
}

/** Without PostgreSQL there is no unleash-server to ask; Gantry still gets the same toggles. */
function unleashShapedState(): unknown {
  return {
    features: TOGGLES.map((t) => ({
      name: t.name,
      type: t.type,
      enabled: t.enabled,
      strategies: t.strategies.map((s) => ({ ...s, segments: s.segments?.map((k) => k + 1) })),
      dependencies: t.dependsOn === undefined ? [] : [{ feature: TOGGLES[t.dependsOn]!.name, enabled: true }],
    })),
    segments: SEGMENTS.map((s, k) => ({ id: k + 1, ...s })),
  };
}

type Feature = {
  name: string;
  enabled: boolean;
  strategies: { name: string; constraints?: unknown[]; segments?: unknown[]; variants?: unknown[] }[];
  dependencies?: unknown[];
};

/** The servers must serve the same toggles, or the comparison means nothing. */
async function checkSameToggles(reqs: LoadRequest[]): Promise<void> {
  const shapes = await Promise.all(
    reqs.map(async (req) => {
      const res = await fetch(req.url, { headers: req.headers });
      const body = (await res.json()) as { features: Feature[]; segments?: unknown[] };
      const features = body.features
        .map((f) => ({
          name: f.name,
          enabled: f.enabled,
          dependencies: f.dependencies?.length ?? 0,
          strategies: f.strategies.map((s) => [
            s.name,
            s.constraints?.length ?? 0,
            s.segments?.length ?? 0,
            s.variants?.length ?? 0,
          ]),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      return JSON.stringify({ features, segments: body.segments?.length ?? 0 });
    }),
  );
  if (shapes.some((s) => s !== shapes[0])) {
    throw new Error(`the servers answer different toggle sets:\n${shapes.join('\n')}`);
  }
}

function ratios(targets: Target[]): TogglesVsUnleash['ratios'] {
  const g = targets.find((t) => t.server === 'gantry-sqlite')?.endpoints;
  const u = targets.find((t) => t.server === 'unleash-server')?.endpoints;
  const ratio = (a?: LoadFigure, b?: LoadFigure) =>
    a && b && b.requestsPerSec > 0
      ? Math.round((a.requestsPerSec / b.requestsPerSec) * 100) / 100
      : undefined;
  const out: TogglesVsUnleash['ratios'] = {
    features200: ratio(g?.features200, u?.features200),
    features304: ratio(g?.features304, u?.features304),
    delta200: ratio(g?.delta200, u?.delta200),
    delta304: ratio(g?.delta304, u?.delta304),
    frontend: ratio(g?.frontend, u?.frontend),
    ofrepSingleVsFrontend: ratio(g?.ofrepSingle, u?.frontend),
    ofrepBulkVsFrontend: ratio(g?.ofrepBulk, u?.frontend),
  };
  for (const k of Object.keys(out) as (keyof typeof out)[]) if (out[k] === undefined) delete out[k];
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = process.argv[2] ? Number(process.argv[2]) : undefined;
  const run = benchTogglesVsUnleash(seconds ? { durationSec: seconds, rounds: 1, evaluatorMs: 200 } : {});
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void Scope.closeAll().finally(() => process.exit(130)));
  }
  console.log(JSON.stringify(await run, null, 2));
}
