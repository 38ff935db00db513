import { Worker } from 'node:worker_threads';

export interface LoadOptions {
  port: number;
  /** Concurrent keep-alive clients, each looping GET / one request at a time. */
  clients: number;
}

export interface LoadCounts {
  requests: number;
  /** Network errors, non-200 answers and bodies that are no release's version. */
  failed: number;
  /** The first few failures. */
  failures: string[];
  byVersion: Record<string, number>;
}

export interface RunningLoad {
  stop(): Promise<LoadCounts>;
}

// A worker does not inherit the tsx loader of the main thread; it registers it before the import.
const BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => {
  tsx.register();
  return import(${JSON.stringify(new URL('./load-worker.ts', import.meta.url).href)});
});`;

/** Starts `clients` keep-alive clients looping `GET /` on 127.0.0.1:`port` in a worker thread. */
export async function startLoad(opts: LoadOptions): Promise<RunningLoad> {
  const worker = new Worker(BOOT, { eval: true, workerData: opts });
  const result = new Promise<LoadCounts>((resolve, reject) => {
    worker.on('message', (m: unknown) => {
      if (m !== 'started') resolve(m as LoadCounts);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the load worker exited with code ${code}`)));
  });
  result.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      try {
        return await result;
      } finally {
        await worker.terminate();
      }
    },
  };
}
