import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Conflict } from '../../errors.js';

/** AES-256-GCM: a 32-byte key, a random 12-byte IV per value, a 16-byte tag after the ciphertext. */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Where a value belongs. It is authenticated with the value, so a ciphertext moved elsewhere fails. */
export interface SecretPlace {
  appId: string;
  /** '' for the app-wide value. */
  env: string;
  name: string;
}

export interface Sealed {
  /** base64 */
  iv: string;
  /** base64 of the ciphertext followed by the GCM tag */
  ciphertext: string;
}

/** A value that does not decrypt: a wrong key, a changed ciphertext, or one moved from another secret. */
export class SecretDecryptError extends Conflict {}

/** The id of a key: a short hash of it, so the same key has the same id wherever it comes from. */
export function keyIdOf(key: Buffer): string {
  return `k${createHash('sha256').update('gantry-secrets-key\0').update(key).digest('hex').slice(0, 16)}`;
}

function aad(p: SecretPlace): Buffer {
  return Buffer.from(`gantry-secret/v1\0${p.appId}\0${p.env}\0${p.name}`, 'utf8');
}

export function seal(key: Buffer, place: SecretPlace, value: string): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(place));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { iv: iv.toString('base64'), ciphertext: body.toString('base64') };
}

/** The value, or SecretDecryptError saying which secret and what to check. */
export function open(key: Buffer, place: SecretPlace, sealed: Sealed, label: string): string {
  const iv = Buffer.from(sealed.iv, 'base64');
  const body = Buffer.from(sealed.ciphertext, 'base64');
  try {
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new Error('truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad(place));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SecretDecryptError(
      `secret ${label} does not decrypt with key ${keyIdOf(key)}: its stored ciphertext was changed, or copied from another secret (each value is sealed with its app, environment and name); set it again with \`gantry secrets set\``,
    );
  }
}
