import { chmod, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packDirectory, unpackArtifact } from '../../src/features/artifacts/artifact-pack.js';
import { craftTarGz, makeTempDir, readTree, removeTempDirs, writeFiles } from './artifact-fixtures.js';

afterEach(removeTempDirs);

describe('unpackArtifact', () => {
  it('restores the packed tree: contents, exec bits, empty folders and symlinks', async () => {
    const work = await makeTempDir();
    const dist = join(work, 'dist');
    await writeFiles(dist, {
      'server.js': 'console.log(1)\n',
      'bin/start': '#!/bin/sh\n',
      'lib/a/b/c.txt': 'deep',
      'empty.txt': '',
    });
    await chmod(join(dist, 'bin/start'), 0o700);
    await mkdir(join(dist, 'empty-dir'));
    await symlink('../server.js', join(dist, 'bin/server.js'));
    await symlink('lib/a', join(dist, 'shortcut'));
    await symlink('missing-target', join(dist, 'dangling'));

    const file = join(work, 'out.tar.gz');
    await packDirectory(dist, file);
    const dest = join(work, 'dest');
    await unpackArtifact(file, dest);

    expect(await readTree(dest)).toEqual(await readTree(dist));
    expect((await stat(join(dest, 'bin/start'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dest, 'server.js'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dest, 'lib'))).mode & 0o777).toBe(0o755);
  });

  it('unpacks an empty artifact', async () => {
    const work = await makeTempDir();
    await mkdir(join(work, 'dist'));
    await packDirectory(join(work, 'dist'), join(work, 'out.tar.gz'));
    await unpackArtifact(join(work, 'out.tar.gz'), join(work, 'dest'));
    expect(await readdir(join(work, 'dest'))).toEqual([]);
  });

  const hostile: Array<[string, Parameters<typeof craftTarGz>[1], string]> = [
    ['a ../ path', [{ name: '../evil', body: 'x' }], 'escapes the destination'],
    ['a nested ../ path', [{ name: 'ok/../../evil', body: 'x' }], 'escapes the destination'],
    ['an absolute path', [{ name: '/tmp/evil', body: 'x' }], 'absolute path'],
    ['a symlink out', [{ name: 'up', type: 'symlink', linkname: '../..' }], 'points outside the artifact'],
    ['an absolute symlink', [{ name: 'up', type: 'symlink', linkname: '/etc' }], 'is absolute'],
    [
      'a write through a symlink',
      [
        { name: 'up', type: 'symlink', linkname: '..' },
        { name: 'up/evil', body: 'x' },
      ],
      'which is not a directory',
    ],
    ['a hard link', [{ name: 'h', type: 'link', linkname: 'x' }], 'only files, directories and symlinks'],
  ];

  it.each(hostile)('rejects %s and leaves nothing behind', async (_name, entries, message) => {
    const work = await makeTempDir();
    const file = join(work, 'evil.tar.gz');
    await craftTarGz(file, entries);
    const dest = join(work, 'a', 'dest');
    await expect(unpackArtifact(file, dest)).rejects.toThrow(message);
    await expect(stat(dest)).rejects.toThrow();
    expect((await readdir(join(work, 'a'))).sort()).toEqual([]);
    expect((await readdir(work)).sort()).toEqual(['a', 'evil.tar.gz']);
  });

  it('refuses a destination that is not empty', async () => {
    const work = await makeTempDir();
    await mkdir(join(work, 'dist'));
    await packDirectory(join(work, 'dist'), join(work, 'out.tar.gz'));
    await writeFiles(join(work, 'dest'), { 'keep.txt': 'mine' });
    await expect(unpackArtifact(join(work, 'out.tar.gz'), join(work, 'dest'))).rejects.toThrow('not empty');
    expect(await readdir(join(work, 'dest'))).toEqual(['keep.txt']);
  });

  it('fails on a truncated archive', async () => {
    const work = await makeTempDir();
    await writeFiles(join(work, 'dist'), { 'a.txt': 'a'.repeat(100_000) });
    const file = join(work, 'out.tar.gz');
    const { size } = await packDirectory(join(work, 'dist'), file);
    const { readFile } = await import('node:fs/promises');
    await writeFile(file, (await readFile(file)).subarray(0, Math.floor(size / 2)));
    await expect(unpackArtifact(file, join(work, 'dest'))).rejects.toThrow('archive is corrupt');
    await expect(stat(join(work, 'dest'))).rejects.toThrow();
  });
});
