import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const GITHUB_SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

function hmacMatches(rawBody: Buffer | string, hex: string, secret: string): boolean {
  // An empty secret would let anyone forge a valid signature, so it never verifies.
  if (secret === '' || !SHA256_HEX.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(hex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Checks `X-Hub-Signature-256: sha256=<hex>` against the exact bytes GitHub sent. */
export function verifyGithubSignature(
  rawBody: Buffer | string,
  header: string | undefined,
  secret: string,
): boolean {
  const hex = header === undefined ? undefined : GITHUB_SIGNATURE.exec(header)?.[1];
  return hex !== undefined && hmacMatches(rawBody, hex, secret);
}

/** Checks `X-Gitea-Signature: <hex>`; also takes Gitea's `X-Hub-Signature-256: sha256=<hex>`. */
export function verifyGiteaSignature(
  rawBody: Buffer | string,
  header: string | undefined,
  secret: string,
): boolean {
  if (header === undefined) return false;
  return hmacMatches(rawBody, header.replace(/^sha256=/i, ''), secret);
}

/** Checks `X-Gitlab-Token`, which carries the shared secret itself. */
export function verifyGitlabToken(header: string | undefined, secret: string): boolean {
  if (header === undefined || header === '' || secret === '') return false;
  // Digesting both sides first gives equal lengths, so neither the content nor the length leaks.
  const given = createHash('sha256').update(header).digest();
  const expected = createHash('sha256').update(secret).digest();
  return timingSafeEqual(given, expected);
}
