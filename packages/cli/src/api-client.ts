import { type CliTarget, tokenHint } from './cli-config.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  statusText: string;
  text: string;
}

/**
 * One request through node:http(s), its answer read whole. Not `fetch`: Node 20 loads undici on its
 * first use, which cost every CLI command about 0.1 s of start-up (docs/benchmarks.md, cli-startup).
 */
async function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const sized =
      body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, headers: sized }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A thin typed client for the server's HTTP API. */
export class ApiClient {
  constructor(readonly target: CliTarget) {}

  private async request(method: string, path: string, body?: unknown): Promise<Answer> {
    let res: Answer;
    try {
      res = await send(
        new URL(`${this.target.url}${path}`),
        method,
        {
          authorization: `Bearer ${this.target.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body === undefined ? undefined : JSON.stringify(body),
      );
    } catch (e) {
      const cause = (e as { code?: string }).code ?? (e as Error).message;
      throw new ApiError(
        0,
        'Unreachable',
        `cannot reach the Gantry server at ${this.target.url} (${cause}); is \`gantry server\` running?`,
      );
    }
    if (res.status < 200 || res.status > 299) {
      const text = res.text;
      let parsed: { error?: string; message?: string; details?: unknown } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        parsed = { message: text };
      }
      throw new ApiError(
        res.status,
        parsed.error ?? String(res.status),
        this.withHint(res.status, parsed.message ?? res.statusText),
        parsed.details,
      );
    }
    return res;
  }

  /** A 401 says where the token came from and how to get another. */
  private withHint(status: number, message: string): string {
    return status === 401 ? `${message}\n${tokenHint(this.target)}` : message;
  }

  async get<T>(path: string): Promise<T> {
    return JSON.parse((await this.request('GET', path)).text) as T;
  }

  async patch<T>(path: string, body: unknown = {}): Promise<T> {
    return JSON.parse((await this.request('PATCH', path, body)).text) as T;
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return JSON.parse((await this.request('POST', path, body)).text) as T;
  }

  async put<T>(path: string, body: unknown = {}): Promise<T> {
    return JSON.parse((await this.request('PUT', path, body)).text) as T;
  }

  /** The answer's JSON; `undefined` for a 204 (No Content), which removals often answer. */
  async delete<T>(path: string): Promise<T> {
    const { text } = await this.request('DELETE', path);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** The response body as a stream of chunks (logs, downloads, event streams). */
  async stream(path: string, headers: Record<string, string> = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await fetch(`${this.target.url}${path}`, {
      headers: { authorization: `Bearer ${this.target.token}`, ...headers },
    }).catch(() => {
      throw new ApiError(0, 'Unreachable', `cannot reach the Gantry server at ${this.target.url}`);
    });
    if (!res.ok || !res.body) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {}
      throw new ApiError(res.status, String(res.status), this.withHint(res.status, message));
    }
    return res.body;
  }
}
