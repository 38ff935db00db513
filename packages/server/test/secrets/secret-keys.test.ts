import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyIdOf, open, SecretDecryptError, seal } from '../../src/features/secrets/secret-cipher.js';
import { SecretKeys } from '../../src/features/secrets/secret-keys.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';

afterAll(cleanupAll);

/** Makes a folder unwritable (for root: immutable, where chattr works); returns how to undo it. */
async function lock(dir: string): Promise<(() => Promise<void>) | null> {
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o500);
    return () => chmod(dir, 0o700);
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return async () => void execFileSync('chattr', ['-i', dir]);
}

const place = { appId: 'app_1', env: 'production', name: 'DATABASE_URL' };

describe('sealing a value (AES-256-GCM)', () => {
  it('opens what it sealed, with a fresh IV each time, and never holds the plaintext', () => {
    const key = randomBytes(32);
    const a = seal(key, place, 'postgres://u:pw@db/prod');
    const b = seal(key, place, 'postgres://u:pw@db/prod');
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(Buffer.from(a.ciphertext, 'base64').toString('latin1')).not.toContain('pw@db');
    expect(open(key, place, a, 'x')).toBe('postgres://u:pw@db/prod');
  });

  it('refuses a changed ciphertext, another key, and a value moved to another app, environment or name', () => {
    const key = randomBytes(32);
    const sealed = seal(key, place, 'value-1234');
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    const tampered = { ...sealed, ciphertext: bytes.toString('base64') };
    expect(() => open(key, place, tampered, 'DATABASE_URL of shop/production')).toThrow(SecretDecryptError);
    expect(() => open(key, place, tampered, 'DATABASE_URL of shop/production')).toThrow(
      /secret DATABASE_URL of shop\/production does not decrypt with key k[0-9a-f]{16}: its stored ciphertext was changed/,
    );
    expect(() => open(randomBytes(32), place, sealed, 'x')).toThrow(SecretDecryptError);
    for (const moved of [{ appId: 'app_2' }, { env: 'qa' }, { env: '' }, { name: 'OTHER' }])
      expect(() => open(key, { ...place, ...moved }, sealed, 'x')).toThrow(SecretDecryptError);
    expect(() => open(key, place, { iv: 'AAAA', ciphertext: '' }, 'x')).toThrow(SecretDecryptError);
  });
});

describe('the secrets key', () => {
  it('is made once in <data-dir>/secrets.key with mode 0600, and the same key is read on the next start', async () => {
    const dataDir = await makeTempDir('gantry-keys-');
    const first = await SecretKeys.load({ dataDir });
    expect(first.notes[0]).toContain('made a new secrets key');
    expect((await stat(join(dataDir, 'secrets.key'))).mode & 0o777).toBe(0o600);
    const again = await SecretKeys.load({ dataDir });
    expect(again.notes).toEqual([]);
    expect((await again.current()).id).toBe((await first.current()).id);
  });

  it('reads a key file holding base64, 32 raw bytes, or a keyring; says what is wrong with anything else', async () => {
    const dir = await makeTempDir('gantry-keys-');
    const key = randomBytes(32);
    const b64 = join(dir, 'b64.key');
    await writeFile(b64, `${key.toString('base64')}\n`, { mode: 0o600 });
    expect((await (await SecretKeys.load({ dataDir: dir, keyFile: b64 })).current()).id).toBe(keyIdOf(key));
    const raw = join(dir, 'raw.key');
    await writeFile(raw, key, { mode: 0o600 });
    expect((await (await SecretKeys.load({ dataDir: dir, keyFile: raw })).current()).id).toBe(keyIdOf(key));

    const loose = join(dir, 'loose.key');
    await writeFile(loose, key.toString('base64'));
    await chmod(loose, 0o644);
    const looseKeys = await SecretKeys.load({ dataDir: dir, keyFile: loose });
    expect(looseKeys.notes.join('\n')).toContain('can be read by others (mode 644); chmod 600 it');

    const bad = join(dir, 'bad.key');
    await writeFile(bad, 'not a key');
    await expect(SecretKeys.load({ dataDir: dir, keyFile: bad })).rejects.toThrow(
      /holds neither a key \(the base64 of 32 bytes/,
    );
    const short = join(dir, 'short.key');
    await writeFile(short, randomBytes(16).toString('base64'));
    await expect(SecretKeys.load({ dataDir: dir, keyFile: short })).rejects.toThrow(/holds neither a key/);
    await expect(SecretKeys.load({ dataDir: dir, keyFile: join(dir, 'missing.key') })).rejects.toThrow(
      /missing\.key cannot be read \(ENOENT\)/,
    );
    const wrongId = join(dir, 'wrong-id.key');
    await writeFile(
      wrongId,
      JSON.stringify({ current: 'kx', keys: [{ id: 'kx', key: key.toString('base64') }] }),
    );
    await expect(SecretKeys.load({ dataDir: dir, keyFile: wrongId })).rejects.toThrow(
      `keys[0] has id kx, but its key's id is ${keyIdOf(key)}`,
    );
  });

  it('rotates in a key file: the new key beside the old, a second start resumes, then the old is retired', async () => {
    const dir = await makeTempDir('gantry-keys-');
    const file = join(dir, 'secrets.key');
    const old = randomBytes(32);
    await writeFile(file, old.toString('base64'), { mode: 0o600 });
    const keys = await SecretKeys.load({ dataDir: dir, keyFile: file });
    const begun = await keys.beginRotation();
    expect(begun.resumed).toBe(false);
    expect(begun.current).not.toBe(keyIdOf(old));
    expect(await keys.ids()).toEqual([keyIdOf(old), begun.current]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    // Another server (or this one after a restart) reads the keyring and finishes that rotation.
    const other = await SecretKeys.load({ dataDir: dir, keyFile: file });
    expect((await other.current()).id).toBe(begun.current);
    expect(await other.get(keyIdOf(old))).toEqual(old);
    expect(await other.beginRotation()).toEqual({ current: begun.current, resumed: true });
    expect(await other.retireOld()).toEqual([keyIdOf(old)]);
    // The first instance sees the file changed.
    expect(await keys.ids()).toEqual([begun.current]);
    expect(await keys.get(keyIdOf(old))).toBeUndefined();
    const written = JSON.parse(await readFile(file, 'utf8')) as { keys: { id: string }[] };
    expect(written.keys.map((k) => k.id)).toEqual([begun.current]);
  });

  it('cannot rotate a key given as a variable, nor one in a folder it may not write: a 409 that says what to do', async () => {
    const env = await SecretKeys.load({ dataDir: '/nonexistent', key: randomBytes(32).toString('base64') });
    expect(env.notes).toEqual([]);
    await expect(env.beginRotation()).rejects.toMatchObject({
      name: 'Conflict',
      message: expect.stringContaining(
        'the secrets key comes from GANTRY_SECRETS_KEY, which the server cannot change; to rotate it, write the key to a file',
      ),
    });
    const dir = await makeTempDir('gantry-keys-');
    const locked = join(dir, 'locked');
    await mkdir(locked);
    const file = join(locked, 'secrets.key');
    await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    const unlock = await lock(locked);
    if (!unlock) return; // root without chattr: nothing here is read-only to it
    try {
      const keys = await SecretKeys.load({ dataDir: dir, keyFile: file });
      await expect(keys.beginRotation()).rejects.toMatchObject({
        name: 'Conflict',
        message: expect.stringMatching(
          /the secrets key file .*locked\/secrets\.key cannot be rewritten here \((EACCES|EPERM)\)/,
        ),
      });
      expect(await keys.ids()).toHaveLength(1);
    } finally {
      await unlock();
    }
  });
});
