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

/** A thin typed client for the server's HTTP API. */
export class ApiClient {
  constructor(readonly target: CliTarget) {}

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.target.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new ApiError(
        0,
        'Unreachable',
        `cannot reach the Gantry server at ${this.target.url} (${cause}); is \`gantry server\` running?`,
      );
    }
    if (!res.ok) {
      const text = await res.text();
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
    return (await (await this.request('GET', path)).json()) as T;
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return (await (await this.request('POST', path, body)).json()) as T;
  }

  async put<T>(path: string, body: unknown = {}): Promise<T> {
    return (await (await this.request('PUT', path, body)).json()) as T;
  }

  async delete<T>(path: string): Promise<T> {
    return (await (await this.request('DELETE', path)).json()) as T;
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
