import { request } from 'node:http';

export interface HealthProbe {
  ok: boolean;
  detail: string;
  timedOut?: boolean;
}

/** One `GET http://127.0.0.1:<port><path>` on a fresh connection; ok on 2xx. */
export function probeHealth(port: number, path: string, timeoutMs: number): Promise<HealthProbe> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs });
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      resolve({ ok, detail: `GET ${path} answered ${status}` });
    });
    req.on('timeout', () => {
      resolve({ ok: false, detail: `GET ${path}: no answer within ${timeoutMs} ms`, timedOut: true });
      req.destroy();
    });
    req.on('error', (err) => resolve({ ok: false, detail: `GET ${path} failed: ${err.message}` }));
    req.end();
  });
}

export type HealthWait =
  | { status: 'healthy' }
  | { status: 'timeout'; detail: string }
  | { status: 'exited' }
  | { status: 'aborted' };

export interface HealthWaitOptions {
  port: number;
  path: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Lets a process that died stop the wait at once instead of at the timeout. */
  hasExited(): boolean;
  intervalMs?: number;
}

export async function waitHealthy(opts: HealthWaitOptions): Promise<HealthWait> {
  const until = Date.now() + opts.timeoutMs;
  let detail = 'no answer yet';
  for (;;) {
    if (opts.signal?.aborted) return { status: 'aborted' };
    if (opts.hasExited()) return { status: 'exited' };
    const left = until - Date.now();
    if (left <= 0) return { status: 'timeout', detail };
    const probe = await probeHealth(opts.port, opts.path, Math.min(left, 2_000));
    if (probe.ok) return { status: 'healthy' };
    // A last probe cut short by the deadline says less than the answer before it.
    if (!probe.timedOut || left >= 2_000) detail = probe.detail;
    await sleep(Math.min(opts.intervalMs ?? 50, Math.max(0, until - Date.now())), opts.signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
