import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** An environment's secrets as an agent keeps them in `served.json`: AES-256-GCM, base64. */
export interface SealedServedSecrets {
  v: 1;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

const INFO = 'gantry agent served.json secrets v1';

function keyFor(token: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', token, salt, INFO, 32));
}

/**
 * Seals the secrets a restarted agent needs to start a release again with a key derived from its
 * agent token (HKDF-SHA256, a random salt per file): the work dir alone (a backup, a copied disk)
 * does not give them away; the agent that has the token opens them.
 */
export function sealServedSecrets(secrets: Record<string, string>, token: string): SealedServedSecrets {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(token, salt), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return {
    v: 1,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

/** Opens what {@link sealServedSecrets} sealed; throws saying why when this token cannot. */
export function openServedSecrets(sealed: SealedServedSecrets, token: string): Record<string, string> {
  if (sealed?.v !== 1) throw new Error('its secrets are sealed in a form this agent does not know');
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      keyFor(token, Buffer.from(sealed.salt, 'base64')),
      Buffer.from(sealed.iv, 'base64'),
    );
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
    return JSON.parse(text.toString('utf8')) as Record<string, string>;
  } catch {
    throw new Error(
      'its secrets were sealed with another agent token (was the token replaced?); the next deployment starts it again',
    );
  }
}
