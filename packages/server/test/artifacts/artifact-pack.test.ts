import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packDirectory } from '../../src/features/artifacts/artifact-pack.js';
import {
  listTarGz,
  makeTempDir,
  readTree,
  removeTempDirs,
  sha256OfFile,
  writeFiles,
} from './artifact-fixtures.js';

afterEach(removeTempDirs);

const LONG = `${'deep-folder-name/'.repeat(8)}${'x'.repeat(120)}.txt`;
const CONTENT: Record<string, string> = {
  'server.js': 'console.log("hi")\n',
  'bin/start': '#!/bin/sh\nexec node server.js\n',
  'bin-extra.txt': 'sorts between "bin" and "bin/start"\n',
  'public/index.html': '<h1>hello</h1>\n',
  'public/ünïcødé.css': 'body{}\n',
  [LONG]: 'long path\n',
};

/** Writes the same content in the given order, with the given modes and timestamps. */
async function buildTree(root: string, order: string[], fileMode: number, execMode: number, time: number) {
  await mkdir(join(root, 'empty'), { recursive: true });
  for (const rel of order) await writeFiles(root, { [rel]: CONTENT[rel] ?? '' });
  for (const rel of order) await chmod(join(root, rel), rel === 'bin/start' ? execMode : fileMode);
  await symlink('../server.js', join(root, 'public/link.js'));
  for (const rel of [...order, 'empty', 'public', 'bin']) await utimes(join(root, rel), time, time);
}

describe('packDirectory', () => {
  it('writes byte-identical archives for the same content, whatever the order, times, modes and owners', async () => {
    const work = await makeTempDir();
    const names = Object.keys(CONTENT);
    await buildTree(join(work, 'a'), names, 0o664, 0o775, 1_000_000);
    await buildTree(join(work, 'b'), [...names].reverse(), 0o644, 0o700, 1_700_000_000);
    if (process.getuid?.() === 0) await chown(join(work, 'b', 'server.js'), 1234, 5678);

    const a = await packDirectory(join(work, 'a'), join(work, 'a.tar.gz'));
    const again = await packDirectory(join(work, 'a'), join(work, 'again.tar.gz'));
    const b = await packDirectory(join(work, 'b'), join(work, 'b.tar.gz'));

    expect(b.digest).toBe(a.digest);
    expect(again.digest).toBe(a.digest);
    const bytes = await readFile(join(work, 'a.tar.gz'));
    expect((await readFile(join(work, 'b.tar.gz'))).equals(bytes)).toBe(true);
    expect((await readFile(join(work, 'again.tar.gz'))).equals(bytes)).toBe(true);
  });

  it('writes entries sorted by path with normalised headers', async () => {
    const work = await makeTempDir();
    await buildTree(join(work, 'dist'), Object.keys(CONTENT), 0o664, 0o775, 1_000_000);
    await packDirectory(join(work, 'dist'), join(work, 'out.tar.gz'));
    const headers = await listTarGz(join(work, 'out.tar.gz'));
    const names = headers.map((h) => h.name);
    const paths = names.map((name) => name.replace(/\/$/, ''));
    expect(paths).toEqual([...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(names).toContain('bin/');
    expect(names).toContain(LONG);
    expect(names.some((name) => name.startsWith('./') || name.startsWith('/'))).toBe(false);
    for (const h of headers) {
      expect([h.mtime.getTime(), h.uid, h.gid, h.uname, h.gname]).toEqual([0, 0, 0, '', '']);
    }
    const byName = new Map(headers.map((h) => [h.name, h]));
    expect(byName.get('bin/')?.mode).toBe(0o755);
    expect(byName.get('bin/start')?.mode).toBe(0o755);
    expect(byName.get('server.js')?.mode).toBe(0o644);
    expect(byName.get('public/link.js')).toMatchObject({ type: 'symlink', linkname: '../server.js' });
  });

  it('writes a gzip header with no name, no mtime and a fixed OS byte', async () => {
    const work = await makeTempDir();
    await writeFiles(join(work, 'dist'), { 'a.txt': 'a' });
    await packDirectory(join(work, 'dist'), join(work, 'out.tar.gz'));
    const header = (await readFile(join(work, 'out.tar.gz'))).subarray(0, 10);
    expect([...header]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  });

  it('gives a different digest when content, an exec bit or a name changes', async () => {
    const work = await makeTempDir();
    const base = { 'a.txt': 'hello', 'run.sh': 'echo' };
    const variants: Array<[string, Record<string, string>, string[]]> = [
      ['base', base, []],
      ['content', { ...base, 'a.txt': 'hellO' }, []],
      ['exec', base, ['a.txt']],
      ['name', { 'b.txt': 'hello', 'run.sh': 'echo' }, []],
    ];
    const digests = new Set<string>();
    for (const [name, files, executables] of variants) {
      await writeFiles(join(work, name), files);
      for (const rel of executables) await chmod(join(work, name, rel), 0o755);
      digests.add((await packDirectory(join(work, name), join(work, `${name}.tar.gz`))).digest);
    }
    expect(digests.size).toBe(variants.length);
  });

  it('reports the sha256 and size of the file it wrote', async () => {
    const work = await makeTempDir();
    await writeFiles(join(work, 'dist'), { 'a.txt': 'a', 'b/c.bin': randomBytes(100_000) });
    const out = join(work, 'out.tar.gz');
    const packed = await packDirectory(join(work, 'dist'), out);
    expect(packed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(packed.digest).toBe(await sha256OfFile(out));
    expect(packed.size).toBe((await stat(out)).size);
  });

  it('packs an empty folder', async () => {
    const work = await makeTempDir();
    await mkdir(join(work, 'dist'));
    const packed = await packDirectory(join(work, 'dist'), join(work, 'out.tar.gz'));
    expect(packed.size).toBeGreaterThan(0);
  });

  it('names the missing folder and the gantry.yaml setting', async () => {
    const work = await makeTempDir();
    const out = join(work, 'out.tar.gz');
    await expect(packDirectory(join(work, 'dist'), out, { displayPath: 'dist' })).rejects.toThrow(
      'artifact path "dist" does not exist after the build; check build.artifact.path in gantry.yaml',
    );
    await expect(packDirectory(join(work, 'dist'), out)).rejects.toThrow(
      `"${join(work, 'dist')}" does not exist`,
    );
    await expect(stat(out)).rejects.toThrow();
  });

  it('rejects symlinks that leave the folder, even through another link', async () => {
    const work = await makeTempDir();
    const cases: Array<[string, string, string]> = [
      ['up', '../secret', 'points outside the artifact'],
      ['abs', '/etc/passwd', 'is absolute'],
      ['chain/t', 's/../x', 'points outside the artifact'],
    ];
    for (const [rel, target, message] of cases) {
      const dist = join(work, `dist-${rel.replace('/', '-')}`);
      await writeFiles(dist, { 'ok.txt': 'ok' });
      if (rel === 'chain/t') {
        await mkdir(join(dist, 'chain'));
        await symlink('..', join(dist, 'chain/s'));
      }
      await symlink(target, join(dist, rel));
      const out = join(work, 'out.tar.gz');
      await expect(packDirectory(dist, out)).rejects.toThrow(message);
      await expect(stat(out)).rejects.toThrow();
    }
  });

  it('rejects special files by name', async () => {
    const work = await makeTempDir();
    const dist = join(work, 'dist');
    await mkdir(dist);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dist, 'app.sock'), resolve));
    try {
      await expect(packDirectory(dist, join(work, 'out.tar.gz'))).rejects.toThrow(
        `contains "app.sock", which is a socket`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('streams a ~20 MB folder and reports progress', async () => {
    const work = await makeTempDir();
    const dist = join(work, 'dist');
    await mkdir(dist);
    const total = 20 * 1024 * 1024;
    for (let i = 0; i < 20; i++) {
      const data = i % 2 ? randomBytes(total / 20) : Buffer.alloc(total / 20, `line ${i} of text\n`);
      await writeFile(join(dist, `part-${i}.bin`), data);
    }
    const seen: number[] = [];
    const out = join(work, 'big.tar.gz');
    const packed = await packDirectory(dist, out, { onProgress: (bytes) => seen.push(bytes) });
    expect(seen.at(-1)).toBe(total);
    expect(seen.length).toBeGreaterThanOrEqual(20);
    expect(seen.every((bytes, i) => i === 0 || bytes > (seen[i - 1] ?? 0))).toBe(true);
    expect(packed.digest).toBe(await sha256OfFile(out));
    expect((await readTree(dist)).length).toBe(20);
  });
});
