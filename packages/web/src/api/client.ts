import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './openapi';

/** The CSRF token of the signed-in session; sent back on every request that changes something. */
let csrfToken: string | undefined;
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (csrfToken && !['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
      request.headers.set('X-CSRF-Token', csrfToken);
    }
    return request;
  },
};

/**
 * The API client, typed by the server's own OpenAPI document (generated at build time). The session
 * cookie is HttpOnly: this code never sees it, the browser sends it.
 */
export const api = createClient<paths>({
  baseUrl: typeof window === 'undefined' ? 'http://localhost' : window.location.origin,
  credentials: 'same-origin',
});
api.use(csrf);

/** An API answer that was not 2xx, with the server's own message (it says what to do next). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer, or an ApiError carrying the server's message. */
export async function ok<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch (e) {
    throw new ApiError(0, `the server did not answer (${(e as Error).message}); is it running?`);
  }
  if (answer.response.ok) return answer.data as T;
  const body = answer.error as { message?: string; details?: unknown } | string | undefined;
  const message =
    typeof body === 'object' && body?.message
      ? body.message
      : typeof body === 'string' && body
        ? body
        : `${answer.response.status} ${answer.response.statusText}`;
  throw new ApiError(answer.response.status, message, typeof body === 'object' ? body?.details : undefined);
}
