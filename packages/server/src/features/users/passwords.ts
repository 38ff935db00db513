import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (19 MiB, 2 passes): what OWASP suggests as a minimum. */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// A hash of nothing anyone knows: an unknown login is checked against it, so it costs what a known one does.
let decoy: Promise<string> | undefined;

/** Whether the password matches the hash; without a hash (no such user, no local password) as slow as with one. */
export async function passwordMatches(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    decoy ??= hash(`decoy-${Math.random()}`);
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}

/** A password a person chose: long enough to be worth hashing. */
export function passwordProblem(password: string): string | null {
  if (password.length < 10) return 'password: at least 10 characters';
  if (password.length > 1000) return 'password: at most 1000 characters';
  return null;
}
