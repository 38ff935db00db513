// A constant request load in a thread of its own, so the clients do not share the bench server's
// event loop. Started by `startLoad`; stops when told and posts what it counted.
import { Agent } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { get } from './http-probe.js';
import type { LoadCounts, LoadOptions } from './load.js';

const { port, clients } = workerData as LoadOptions;
const agent = new Agent({ keepAlive: true, maxSockets: clients });
const counts: LoadCounts = { requests: 0, failed: 0, failures: [], byVersion: {} };
let stopped = false;
parentPort!.on('message', (message) => {
  if (message === 'stop') stopped = true;
});

function fail(what: string): void {
  counts.failed++;
  if (counts.failures.length < 10) counts.failures.push(what);
}

async function client(): Promise<void> {
  while (!stopped) {
    counts.requests++;
    try {
      const answer = await get(agent, port);
      if (answer.status === 200 && /^v\d+$/.test(answer.body)) {
        counts.byVersion[answer.body] = (counts.byVersion[answer.body] ?? 0) + 1;
      } else {
        fail(`${answer.status} ${answer.body.slice(0, 100)}`);
      }
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  }
}

parentPort!.postMessage('started');
await Promise.all(Array.from({ length: clients }, client));
agent.destroy();
parentPort!.postMessage(counts);
