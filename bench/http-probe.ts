import { type Agent, request } from 'node:http';

export interface Answer {
  status: number;
  body: string;
}

/** One GET on 127.0.0.1:`port` through `agent`; rejects on a network error. */
export function get(agent: Agent, port: number, path = '/', timeoutMs = 5_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends GETs one after another until `streak` answers in a row are `version`; returns when the
 * first of those answers arrived (performance.now()), so the streak itself is not counted.
 */
export async function untilAllServe(
  agent: Agent,
  port: number,
  version: string,
  streak: number,
  timeoutMs = 30_000,
): Promise<number> {
  const until = performance.now() + timeoutMs;
  let first: number | null = null;
  let run = 0;
  for (;;) {
    const answer = await get(agent, port).catch(() => null);
    const now = performance.now();
    if (answer?.status === 200 && answer.body === version) {
      first ??= now;
      if (++run >= streak) return first;
    } else {
      first = null;
      run = 0;
    }
    if (now > until) throw new Error(`port ${port} did not serve ${version} to ${streak} requests in a row`);
  }
}
