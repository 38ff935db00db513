import { InvalidInput } from '../errors.js';

/**
 * JSON.parse that refuses a NUL character (`\u0000`) in any key or string: no name, id or text
 * Gantry stores may hold one, and PostgreSQL refuses it in text (which would be a 500).
 */
export function parseJsonBody(text: string): unknown {
  // JSON strings cannot hold a raw control character, so a NUL can only come as the escape \u0000:
  // without one in the text, the plain (much faster) parse is enough.
  if (!/\\u0000/i.test(text)) return JSON.parse(text);
  let nul = false;
  const value: unknown = JSON.parse(text, (key, v: unknown) => {
    if (key.includes('\0') || (typeof v === 'string' && v.includes('\0'))) nul = true;
    return v;
  });
  if (nul) throw new InvalidInput('request body holds a NUL character (\\u0000); no field accepts one');
  return value;
}

/** True when a request URL carries a NUL character, raw or percent-encoded. */
export function urlHasNul(url: string): boolean {
  return url.includes('\0') || /%00/i.test(url);
}
