import { join } from 'node:path';
import { type CheckConfig, checkKind, checkTimeoutMs, formatDuration } from '@gantry/contracts';
import type { TrafficReport, TrafficSample } from '@gantry/driver-api';
import type { Sandbox } from '../../sandbox/host-sandbox.js';
import { allowlistedEnv } from '../../sandbox/sandbox.js';
import { runStep } from '../builds/run-step.js';
import type { SecretMasker } from '../secrets/secret-masker.js';

/** The most output kept per run (its end, where a failure usually shows). */
export const MAX_OUTPUT = 64 * 1024;
/** How much of an HTTP answer is read and kept. */
const MAX_BODY = 1024 * 1024;
const SHOWN_BODY = 2 * 1024;

/** What a check runs against: the environment and the release that serves it. */
export interface CheckTarget {
  app: string;
  env: string;
  sha: string;
  /** The environment's address, `http://127.0.0.1:<port>`. */
  url: string;
  /** The release before this one, for a watch's comparison. */
  previousSha: string | null;
  /** When the release took over (epoch ms): a watch counts its requests from here. */
  servingSinceMs: number;
  /** A clean checkout of the commit, made on first use, for command checks. */
  worktree(): Promise<string>;
  /** A folder outside the worktree (out of the check's reach) for its log file. */
  logDir: string;
  sandbox: Sandbox;
  /** The driver's view of the environment's traffic; undefined when the driver has none. */
  traffic?: (sinceMs: number) => Promise<TrafficReport>;
  driver: string;
  /** The environment's secret values, masked in what a check prints or sees (features/secrets). */
  mask?: SecretMasker;
}

export interface CheckOutcome {
  passed: boolean;
  output: string;
  /** One line: why it failed. */
  error: string | null;
}

/** Runs one attempt of a check. Never throws for the check's own failure; `signal` stops it. */
export async function runCheck(
  check: CheckConfig,
  target: CheckTarget,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const timeoutMs = checkTimeoutMs(check);
  const kind = checkKind(check);
  try {
    if (kind === 'run') return await runCommand(check.run!, target, timeoutMs, signal);
    if (kind === 'http') return await runHttp(check.http!, target, timeoutMs, signal);
    return await runWatch(check.watch!, target, timeoutMs, signal);
  } catch (e) {
    if (signal.aborted) return { passed: false, output: '', error: 'cancelled' };
    const message = e instanceof Error ? e.message : String(e);
    return { passed: false, output: '', error: message };
  }
}

async function runCommand(
  command: string,
  target: CheckTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const dir = await target.worktree();
  const env = allowlistedEnv(process.env, {
    HOME: join(dir, '.gantry-home'),
    GANTRY_APP: target.app,
    GANTRY_ENV: target.env,
    GANTRY_SHA: target.sha,
    GANTRY_ENV_URL: target.url,
  });
  const wrapper = target.sandbox.wrap({ readWrite: [dir], cwd: dir, env, network: true });
  let kept = Buffer.alloc(0);
  const outcome = await runStep({
    command,
    cwd: dir,
    env,
    wrapper,
    // Outside the worktree: a check must not be able to swap its log for a link to a server file.
    logFile: join(target.logDir, `${target.sha.slice(0, 12)}-${Date.now()}.log`),
    timeoutMs,
    signal,
    mask: target.mask,
    onOutput: (chunk) => {
      kept = Buffer.concat([kept, chunk]);
      if (kept.length > MAX_OUTPUT * 2) kept = kept.subarray(kept.length - MAX_OUTPUT);
    },
  });
  const output = lastBytes(kept, MAX_OUTPUT);
  if (outcome.stoppedBy === 'timeout')
    return { passed: false, output, error: `timed out after ${formatDuration(timeoutMs)}` };
  if (outcome.stoppedBy === 'abort') return { passed: false, output, error: 'cancelled' };
  if (outcome.failure) return { passed: false, output, error: outcome.failure };
  if (outcome.exitCode === 0) return { passed: true, output, error: null };
  const last = outcome.tail.trim().split('\n').at(-1)?.trim();
  const notFound = outcome.exitCode === 127 ? ' (command not found)' : '';
  return {
    passed: false,
    output,
    error: `exited with code ${outcome.exitCode}${notFound}${last ? `: ${last.slice(0, 300)}` : ''}`,
  };
}

async function runHttp(
  http: NonNullable<CheckConfig['http']>,
  target: CheckTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const url = new URL(http.path, target.url).href;
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      headers: { 'user-agent': 'gantry-check' },
    });
  } catch (e) {
    if (signal.aborted) throw e;
    const timedOut = (e as Error).name === 'TimeoutError';
    const cause = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
    return {
      passed: false,
      output: `GET ${url}: ${timedOut ? 'no answer' : cause}`,
      error: timedOut
        ? `GET ${http.path}: no answer within ${formatDuration(timeoutMs)}`
        : `GET ${http.path}: ${cause}`,
    };
  }
  const ms = Math.round(performance.now() - started);
  const body = await readCapped(res, MAX_BODY);
  // Masked before it is cut, so no part of a secret is left at the cut.
  const output = `GET ${url} → ${res.status} in ${ms} ms\n${(target.mask?.text(body) ?? body).slice(0, SHOWN_BODY)}`;
  if (res.status !== http.expect_status)
    return {
      passed: false,
      output,
      error: `GET ${http.path}: expected ${http.expect_status}, got ${res.status}`,
    };
  if (http.expect_body !== undefined && !body.includes(http.expect_body))
    return {
      passed: false,
      output,
      error: `GET ${http.path}: the answer does not contain ${JSON.stringify(http.expect_body)}`,
    };
  return { passed: true, output, error: null };
}

async function runWatch(
  watch: NonNullable<CheckConfig['watch']>,
  target: CheckTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const traffic = target.traffic;
  if (!traffic)
    return {
      passed: false,
      output: '',
      error: `the ${target.driver} driver cannot see the environment's traffic; a watch needs the process or container driver (use a run or http check instead)`,
    };
  const from = Math.max(target.servingSinceMs, Date.now() - watch.for);
  const waitMs = Math.min(watch.for, timeoutMs);
  await sleep(Math.max(0, from + waitMs - Date.now()), signal);
  const now = await traffic(from);
  const before = target.previousSha ? await traffic(from - watch.for) : null;
  const mine = sampleOf(now, target.sha);
  const theirs = target.previousSha && before ? sampleOf(before, target.previousSha) : null;
  const lines = [
    `watched ${formatDuration(watch.for)} of traffic to ${target.env}`,
    `${target.sha.slice(0, 12)}: ${describe(mine)}`,
    ...(theirs && theirs.requests > 0
      ? [`${target.previousSha!.slice(0, 12)} (the release before): ${describe(theirs)}`]
      : []),
  ];
  const output = lines.join('\n');
  if (mine.requests === 0) {
    if (!watch.require_traffic)
      return {
        passed: true,
        output: `${output}\nno traffic; passes because require_traffic is false`,
        error: null,
      };
    return {
      passed: false,
      output,
      error: `no request reached ${target.env} in ${formatDuration(watch.for)}; send it traffic during the watch, or set require_traffic: false`,
    };
  }
  const rate = mine.errors / mine.requests;
  const compared = theirs && theirs.requests > 0 ? ` (the release before: ${describe(theirs)})` : '';
  if (watch.max_error_rate !== undefined && rate > watch.max_error_rate)
    return {
      passed: false,
      output,
      error: `5xx answers ${percent(rate)} (${mine.errors} of ${mine.requests}) exceed ${percent(watch.max_error_rate)}${compared}`,
    };
  if (watch.max_p95_ms !== undefined && mine.p95Ms !== null && mine.p95Ms > watch.max_p95_ms)
    return {
      passed: false,
      output,
      error: `p95 latency ${Math.round(mine.p95Ms)} ms exceeds ${watch.max_p95_ms} ms${compared}`,
    };
  return { passed: true, output, error: null };
}

function sampleOf(report: TrafficReport, sha: string): TrafficSample {
  return report.releases.find((r) => r.sha === sha) ?? { sha, requests: 0, errors: 0, p95Ms: null };
}

function describe(s: TrafficSample): string {
  if (s.requests === 0) return 'no requests';
  const p95 = s.p95Ms === null ? '' : `, p95 ${Math.round(s.p95Ms)} ms`;
  return `${s.requests} requests, ${s.errors} 5xx (${percent(s.errors / s.requests)})${p95}`;
}

function percent(share: number): string {
  const p = share * 100;
  const digits = p >= 10 || Number.isInteger(p) ? 0 : p >= 1 ? 1 : 2;
  return `${Number(p.toFixed(digits))}%`;
}

function lastBytes(buf: Buffer, max: number): string {
  const text = buf.subarray(Math.max(0, buf.length - max)).toString('utf8');
  return buf.length > max ? `… ${text}` : text;
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(parts).subarray(0, max).toString('utf8');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
