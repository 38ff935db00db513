import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Conflict } from '../../errors.js';
import { KEY_BYTES, keyIdOf } from './secret-cipher.js';

/** Where the key comes from: `GANTRY_SECRETS_KEY_FILE`, `GANTRY_SECRETS_KEY`, or `<data-dir>/secrets.key`. */
export interface SecretKeysOptions {
  /** base64 of 32 bytes (GANTRY_SECRETS_KEY). */
  key?: string;
  /** A file holding the key or a keyring (GANTRY_SECRETS_KEY_FILE); must exist. */
  keyFile?: string;
  dataDir: string;
}

export interface SecretKey {
  id: string;
  key: Buffer;
}

interface Keyring {
  current: string;
  keys: (SecretKey & { createdAt: string | null })[];
}

/** The keyring file: a few keys, one current; the others are being retired by a rotation. */
interface KeyringFile {
  gantry: 'secrets-keyring';
  version: 1;
  current: string;
  keys: { id: string; key: string; createdAt: string | null }[];
}

export const DEFAULT_KEY_FILE = 'secrets.key';

/**
 * The keys secrets are encrypted with. A key given as an environment variable is fixed; a key file
 * is read again whenever it changes (another server rotated it, an operator replaced it), and holds
 * a small keyring while a rotation runs: the new key is current, the old ones still decrypt.
 */
export class SecretKeys {
  private ring: Keyring;
  private stamp = '';

  private constructor(
    readonly source: { kind: 'env' } | { kind: 'file'; path: string },
    ring: Keyring,
    /** For the start-up log: a new key file was made, or the file can be read by others. */
    readonly notes: string[],
  ) {
    this.ring = ring;
  }

  static async load(opts: SecretKeysOptions): Promise<SecretKeys> {
    if (opts.key) {
      const key = Buffer.from(opts.key, 'base64');
      if (key.length !== KEY_BYTES) throw new Error('GANTRY_SECRETS_KEY: expected the base64 of 32 bytes');
      const id = keyIdOf(key);
      return new SecretKeys({ kind: 'env' }, { current: id, keys: [{ id, key, createdAt: null }] }, []);
    }
    const notes: string[] = [];
    const path = opts.keyFile ?? join(opts.dataDir, DEFAULT_KEY_FILE);
    if (!opts.keyFile && (await createKeyFile(path)))
      notes.push(`made a new secrets key in ${path} (mode 0600)`);
    const keys = new SecretKeys({ kind: 'file', path }, { current: '', keys: [] }, notes);
    await keys.reload(true);
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077)
      notes.push(
        `the secrets key file ${path} can be read by others (mode ${mode.toString(8)}); chmod 600 it`,
      );
    return keys;
  }

  /** The key new values are encrypted with. */
  async current(): Promise<SecretKey> {
    await this.reload();
    return this.find(this.ring.current)!;
  }

  /** A key of the ring by id; undefined when this server does not have it. */
  async get(id: string): Promise<Buffer | undefined> {
    await this.reload();
    return this.find(id)?.key;
  }

  async ids(): Promise<string[]> {
    await this.reload();
    return this.ring.keys.map((k) => k.id);
  }

  /**
   * Starts (or resumes) a rotation: a keyring with more than one key is a rotation an earlier run
   * left halfway, which is finished as it is; otherwise a new key is made current, beside the old.
   */
  async beginRotation(): Promise<{ current: string; resumed: boolean }> {
    const path = this.writablePath();
    await this.reload();
    if (this.ring.keys.length > 1) return { current: this.ring.current, resumed: true };
    const key = randomBytes(KEY_BYTES);
    const id = keyIdOf(key);
    await this.write(path, {
      current: id,
      keys: [...this.ring.keys, { id, key, createdAt: new Date().toISOString() }],
    });
    return { current: id, resumed: false };
  }

  /** Drops every key but the current one from the keyring; returns the ids dropped. */
  async retireOld(): Promise<string[]> {
    const path = this.writablePath();
    await this.reload();
    const old = this.ring.keys.filter((k) => k.id !== this.ring.current);
    if (old.length === 0) return [];
    await this.write(path, { current: this.ring.current, keys: [this.find(this.ring.current)!] });
    return old.map((k) => k.id);
  }

  private find(id: string) {
    return this.ring.keys.find((k) => k.id === id);
  }

  private writablePath(): string {
    if (this.source.kind === 'env')
      throw new Conflict(
        'the secrets key comes from GANTRY_SECRETS_KEY, which the server cannot change; to rotate it, write the key to a file the server may write (mode 600), start the server with GANTRY_SECRETS_KEY_FILE=<that file> instead, and run `gantry secrets rotate-key` again',
      );
    return this.source.path;
  }

  private async reload(force = false): Promise<void> {
    if (this.source.kind !== 'file') return;
    const path = this.source.path;
    const s = await stat(path).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`the secrets key file ${path} cannot be read (${e.code ?? e.message})`);
    });
    const stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    if (!force && stamp === this.stamp) return;
    const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`the secrets key file ${path} cannot be read (${e.code ?? e.message})`);
    });
    this.ring = parseKeyFile(bytes, path);
    this.stamp = stamp;
  }

  /** Writes the keyring beside the file and renames it into place, so a crash leaves the old or the new. */
  private async write(path: string, ring: Keyring): Promise<void> {
    const file: KeyringFile = {
      gantry: 'secrets-keyring',
      version: 1,
      current: ring.current,
      keys: ring.keys.map((k) => ({ id: k.id, key: k.key.toString('base64'), createdAt: k.createdAt })),
    };
    const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(file, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await chmod(tmp, 0o600);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
        throw new Conflict(
          `the secrets key file ${path} cannot be rewritten here (${code}): the server writes the new key beside the old in that file; give the server a key file in a folder it may write (GANTRY_SECRETS_KEY_FILE) and run \`gantry secrets rotate-key\` again`,
        );
      throw e;
    }
    this.ring = ring;
    const s = await stat(path);
    this.stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
  }
}

/** Makes the default key file with a fresh key unless it exists; true when it made it. */
async function createKeyFile(path: string): Promise<boolean> {
  const key = randomBytes(KEY_BYTES);
  const file: KeyringFile = {
    gantry: 'secrets-keyring',
    version: 1,
    current: keyIdOf(key),
    keys: [{ id: keyIdOf(key), key: key.toString('base64'), createdAt: new Date().toISOString() }],
  };
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`cannot make the secrets key file ${path}: ${(e as Error).message}`);
  }
  try {
    await fh.writeFile(`${JSON.stringify(file, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

/** A keyring (JSON), the base64 of a 32-byte key (as `openssl rand -base64 32` writes it), or 32 raw bytes. */
export function parseKeyFile(bytes: Buffer, path: string): Keyring {
  const text = bytes.toString('utf8').trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const key = Buffer.from(text, 'base64');
    if (key.length === KEY_BYTES) return single(key);
  }
  if (text.startsWith('{')) {
    let file: Partial<KeyringFile>;
    try {
      file = JSON.parse(text) as Partial<KeyringFile>;
    } catch {
      throw new Error(`the secrets key file ${path} is not valid JSON`);
    }
    const keys = (Array.isArray(file.keys) ? file.keys : []).map((k, i) => {
      const key = Buffer.from(String(k?.key ?? ''), 'base64');
      if (key.length !== KEY_BYTES)
        throw new Error(`the secrets key file ${path}: keys[${i}] is not the base64 of 32 bytes`);
      if (k.id !== keyIdOf(key))
        throw new Error(
          `the secrets key file ${path}: keys[${i}] has id ${k.id}, but its key's id is ${keyIdOf(key)}`,
        );
      return { id: k.id, key, createdAt: k.createdAt ?? null };
    });
    if (keys.length === 0) throw new Error(`the secrets key file ${path} holds no key`);
    if (!keys.some((k) => k.id === file.current))
      throw new Error(`the secrets key file ${path}: current (${file.current}) is not one of its keys`);
    return { current: file.current!, keys };
  }
  if (bytes.length === KEY_BYTES) return single(bytes);
  throw new Error(
    `the secrets key file ${path} holds neither a key (the base64 of 32 bytes, e.g. from \`openssl rand -base64 32\`) nor a Gantry keyring`,
  );
}

function single(key: Buffer): Keyring {
  const id = keyIdOf(key);
  return { current: id, keys: [{ id, key, createdAt: null }] };
}
