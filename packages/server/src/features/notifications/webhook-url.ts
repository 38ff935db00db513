import { InvalidInput } from '../../errors.js';

/** The longest receiver URL taken (Slack's and Teams' are far shorter). */
const MAX_URL = 2048;

/**
 * Checks a receiver's URL: absolute http or https, a host, no fragment. Credentials in it are kept
 * (some receivers take basic auth this way) but never shown again: see {@link maskUrl}.
 *
 * @example
 * checkReceiverUrl('https://hooks.example.com/gantry'); // 'https://hooks.example.com/gantry'
 * checkReceiverUrl('ftp://example.com'); // InvalidInput
 */
export function checkReceiverUrl(raw: string, field = 'url'): string {
  const text = raw.trim();
  if (text.length > MAX_URL) throw new InvalidInput(`${field}: longer than ${MAX_URL} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInput(
      `${field}: "${text}" is not an absolute URL; give one such as https://hooks.example.com/gantry`,
      {
        field,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInput(`${field}: ${url.protocol.slice(0, -1)} URLs are not sent to; use http or https`, {
      field,
    });
  }
  if (!url.hostname) throw new InvalidInput(`${field}: the URL has no host`, { field });
  if (url.hash)
    throw new InvalidInput(`${field}: a URL fragment (#…) is never sent to a server; remove it`, { field });
  return url.toString();
}

/** Hosts whose webhook URLs carry their secret in the path (the last segment is masked). */
const SECRET_PATH_HOSTS = [
  /(^|\.)hooks\.slack\.com$/i,
  /(^|\.)discord(app)?\.com$/i,
  /\.webhook\.office\.com$/i,
];

/**
 * A URL as it may be shown: the password of its credentials, every query value and, for receivers
 * known to keep their secret in the path (Slack, Discord, Teams), the path's last segment become `***`.
 *
 * @example
 * maskUrl('https://bot:s3cret@example.com/hook?token=abc'); // 'https://bot:***@example.com/hook?token=***'
 */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '***';
  }
  if (url.password) url.password = '***';
  else if (url.username) url.username = '***';
  for (const key of [...new Set(url.searchParams.keys())]) url.searchParams.set(key, '***');
  if (SECRET_PATH_HOSTS.some((h) => h.test(url.hostname))) {
    const parts = url.pathname.split('/');
    if (parts.length > 2 && parts.at(-1)) parts[parts.length - 1] = '***';
    url.pathname = parts.join('/');
  }
  return url.toString().replaceAll('%2A%2A%2A', '***');
}
