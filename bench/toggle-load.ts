import autocannon from 'autocannon';

// bench/autocannon.d.ts types only what the other benchmarks use.
type Autocannon = (opts: {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  duration: number;
  workers: number;
}) => Promise<
  Awaited<ReturnType<typeof autocannon>> & { statusCodeStats: Record<string, { count: number }> }
>;
const cannon = autocannon as unknown as Autocannon;

/** One HTTP request to load, with the status every answer must have. */
export interface LoadRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
  status: 200 | 304;
}

export interface LoadRound {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  /** Answers with another status than expected, plus network errors (timeouts included). */
  failed: number;
}

export interface LoadFigure extends LoadRound {
  path: string;
  status: number;
  /** Body size of one answer, checked before the load. */
  bytes: number;
  /** Every measured round; the fields above are the round with the most requests/s. */
  rounds: LoadRound[];
}

export interface LoadSettings {
  connections: number;
  durationSec: number;
  warmupSec: number;
}

/** One request through `fetch` first: the load is only worth measuring if it answers as expected. */
export async function probe(req: LoadRequest): Promise<{ bytes: number; etag: string | null }> {
  const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== req.status) {
    throw new Error(
      `${req.method} ${req.url} → ${res.status}, expected ${req.status}: ${body.toString().slice(0, 300)}`,
    );
  }
  return { bytes: body.length, etag: res.headers.get('etag') };
}

export async function load(req: LoadRequest, s: LoadSettings, warmup: boolean): Promise<LoadRound> {
  const run = (duration: number) =>
    cannon({
      url: req.url,
      method: req.method,
      headers: req.headers,
      body: req.body,
      connections: s.connections,
      duration,
      // The load generator gets its own thread so it does not share an in-process server's event loop.
      workers: 1,
    });
  if (warmup) await run(s.warmupSec);
  const r = await run(s.durationSec);
  const expected = r.statusCodeStats[String(req.status)]?.count ?? 0;
  const answered = Object.values(r.statusCodeStats).reduce((n, c) => n + c.count, 0);
  return {
    requestsPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    requests: answered,
    failed: answered - expected + r.errors,
  };
}

export function best(rounds: LoadRound[]): LoadRound {
  return rounds.reduce((a, b) => (b.requestsPerSec > a.requestsPerSec ? b : a));
}
