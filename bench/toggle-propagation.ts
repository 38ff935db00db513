import { pathToFileURL } from 'node:url';
import { createHookedApp, median, percentile, Scope, startBenchServer } from './support.js';

export interface PropagationResult {
  changes: number;
  /** Admin API change accepted → the SDK stream delivers it (Unleash streaming). */
  unleashStream: { medianMs: number; p95Ms: number; maxMs: number };
  /** Admin API change accepted → the OFREP refetch notice arrives. */
  ofrepNotice: { medianMs: number; p95Ms: number; maxMs: number };
  goalMs: number;
  meetsGoal: boolean;
}

/** Reads a server-sent event stream and resolves waiters on each event of the given name. */
function followStream(url: string, token: string, eventName: string, signal: AbortSignal) {
  const waiters: (() => void)[] = [];
  let ready!: () => void;
  const opened = new Promise<void>((r) => {
    ready = r;
  });
  void (async () => {
    const res = await fetch(url, { headers: { authorization: token }, signal });
    if (!res.ok || !res.body) throw new Error(`${url} → ${res.status}`);
    ready();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const isEvent =
          block.split('\n').some((l) => l === `event: ${eventName}`) || block.includes(`"${eventName}"`);
        if (isEvent) for (const w of waiters.splice(0)) w();
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => undefined);
  return {
    opened,
    next: () => new Promise<void>((r) => waiters.push(r)),
  };
}

function stats(xs: number[]) {
  return { medianMs: median(xs), p95Ms: percentile(xs, 95), maxMs: Math.max(...xs) };
}

/** How long a toggle change takes to reach a connected client, over `changes` changes. */
export async function benchTogglePropagation(changes = 20): Promise<PropagationResult> {
  const scope = new Scope();
  const ac = new AbortController();
  scope.defer(async () => ac.abort());
  try {
    const bench = await startBenchServer(scope);
    await createHookedApp(scope, bench, 'live');
    await bench.api('POST', '/api/apps/live/toggles', { name: 'live-flag' });
    await bench.api('PUT', '/api/apps/live/toggles/live-flag/environments/production', {
      enabled: false,
      strategies: [{ name: 'default' }],
    });
    const { token } = await bench.api<{ token: string }>('POST', '/api/apps/live/client-tokens', {
      env: 'production',
    });
    const url = bench.server.url;
    const unleash = followStream(`${url}/api/client/streaming`, token, 'unleash-updated', ac.signal);
    const ofrep = followStream(`${url}/ofrep/v1/events`, token, 'refetchEvaluation', ac.signal);
    await Promise.all([unleash.opened, ofrep.opened]);
    await new Promise((r) => setTimeout(r, 200));
    const u: number[] = [];
    const o: number[] = [];
    for (let i = 0; i < changes; i++) {
      const gotU = unleash.next();
      const gotO = ofrep.next();
      const start = performance.now();
      await bench.api('PUT', '/api/apps/live/toggles/live-flag/environments/production', {
        enabled: i % 2 === 0,
      });
      await Promise.all([
        gotU.then(() => u.push(performance.now() - start)),
        gotO.then(() => o.push(performance.now() - start)),
      ]);
    }
    const round = (s: { medianMs: number; p95Ms: number; maxMs: number }) => ({
      medianMs: Math.round(s.medianMs),
      p95Ms: Math.round(s.p95Ms),
      maxMs: Math.round(s.maxMs),
    });
    const unleashStream = round(stats(u));
    const ofrepNotice = round(stats(o));
    return {
      changes,
      unleashStream,
      ofrepNotice,
      goalMs: 1000,
      meetsGoal: unleashStream.maxMs < 1000 && ofrepNotice.maxMs < 1000,
    };
  } finally {
    await scope.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchTogglePropagation(), null, 2));
}
