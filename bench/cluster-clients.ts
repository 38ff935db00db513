// Simulated SDK clients in a process of their own (its own file descriptors and event loop): each
// holds one Unleash streaming connection (`/api/client/streaming`) to one of the servers, as an SDK
// in streaming mode does; and polling SDK clients, each asking `/api/client/features` every
// `intervalMs` with the ETag of its last answer, as an SDK in polling mode does (requests over a few
// kept-alive sockets: the load of the requests, not of 10,000 idle sockets). Started by
// bench/cluster-toggles.ts and bench/scale-out.ts, which talk to it over IPC:
//   → { kind: 'open', urls, token, perServer }      ← { kind: 'opened', failed }
//   → { kind: 'expect', revision }                   ← { kind: 'updated', times } (epoch ms per client)
//   → { kind: 'poll', urls, token, clients, intervalMs }
//   → { kind: 'polled' }                             ← { kind: 'polls', ms, ok, notModified, failed }
//   → { kind: 'stop' }
import { Agent, request } from 'node:http';

type Message =
  | { kind: 'open'; urls: string[]; token: string; perServer: number }
  | { kind: 'expect'; revision: number }
  | { kind: 'poll'; urls: string[]; token: string; clients: number; intervalMs: number }
  | { kind: 'polled' }
  | { kind: 'stop' };

/** Polling clients: the time of each request, and how each ended. */
const polls = { ms: [] as number[], ok: 0, notModified: 0, failed: 0, timers: [] as NodeJS.Timeout[] };

function startPolling(urls: string[], token: string, count: number, intervalMs: number): void {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  for (let i = 0; i < count; i++) {
    const url = `${urls[i % urls.length]}/api/client/features`;
    let etag: string | undefined;
    const once = () => {
      const t = performance.now();
      const req = request(
        url,
        { agent, headers: { authorization: token, ...(etag ? { 'if-none-match': etag } : {}) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            polls.ms.push(performance.now() - t);
            if (res.statusCode === 304) polls.notModified++;
            else if (res.statusCode === 200) {
              polls.ok++;
              etag = String(res.headers.etag ?? '') || undefined;
            } else polls.failed++;
          });
        },
      );
      req.on('error', () => polls.failed++);
      req.end();
    };
    // Spread evenly over the interval, as SDKs started at different times are.
    const first = setTimeout(
      () => {
        once();
        polls.timers.push(setInterval(once, intervalMs));
      },
      Math.floor((i / count) * intervalMs),
    );
    polls.timers.push(first);
  }
}

interface Client {
  /** The newest revision this client received, and when. */
  revision: number;
  receivedAt: number;
  /** When it received the one expected, epoch ms. */
  at: number;
  close(): void;
}

const clients: Client[] = [];
let expected = Number.POSITIVE_INFINITY;
let waiting = 0;

const now = () => performance.timeOrigin + performance.now();

function received(c: Client, revision: number): void {
  if (revision <= c.revision) return;
  c.revision = revision;
  c.receivedAt = now();
  if (revision >= expected && c.at === 0) {
    c.at = c.receivedAt;
    if (--waiting === 0) process.send!({ kind: 'updated', times: clients.map((x) => x.at) });
  }
}

function open(url: string, token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client: Client = { revision: 0, receivedAt: 0, at: 0, close: () => req.destroy() };
    const req = request(
      `${url}/api/client/streaming`,
      { headers: { authorization: token, accept: 'text/event-stream' }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`${url}: ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        let connected = false;
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (\d+)$/m.exec(block);
            if (id) received(client, Number(id[1]));
            if (!connected && /^event: unleash-connected$/m.test(block)) {
              connected = true;
              resolve(client);
            }
            end = buffer.indexOf('\n\n');
          }
        });
        res.on('error', () => undefined);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

process.on('message', async (m: Message) => {
  if (m.kind === 'open') {
    let failed = 0;
    // A few hundred at a time, spread over the servers.
    const targets = m.urls.flatMap((u) => Array.from({ length: m.perServer }, () => u));
    for (let i = 0; i < targets.length; i += 250) {
      const batch = await Promise.allSettled(targets.slice(i, i + 250).map((u) => open(u, m.token)));
      for (const r of batch) {
        if (r.status === 'fulfilled') clients.push(r.value);
        else failed++;
      }
    }
    process.send!({ kind: 'opened', failed });
  } else if (m.kind === 'expect') {
    expected = m.revision;
    waiting = 0;
    for (const c of clients) {
      // Received before this message came (the change's answer reached the parent later).
      c.at = c.revision >= expected ? c.receivedAt : 0;
      if (c.at === 0) waiting++;
    }
    if (waiting === 0) process.send!({ kind: 'updated', times: clients.map((x) => x.at) });
  } else if (m.kind === 'poll') {
    startPolling(m.urls, m.token, m.clients, m.intervalMs);
  } else if (m.kind === 'polled') {
    for (const t of polls.timers) clearTimeout(t);
    const { ms, ok, notModified, failed } = polls;
    process.send!({ kind: 'polls', ms, ok, notModified, failed });
  } else {
    for (const c of clients) c.close();
    process.exit(0);
  }
});
