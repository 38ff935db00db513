import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract, type Header, pack } from 'tar-stream';

const created: string[] = [];

export async function makeTempDir(prefix = 'gantry-artifacts-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export type TreeNode = { rel: string; kind: 'file' | 'dir' | 'symlink'; exec: boolean; content: string };

/** A comparable picture of a folder: kind, content (or link target) and whether it is executable. */
export async function readTree(root: string): Promise<TreeNode[]> {
  const nodes: TreeNode[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const abs = join(root, childRel);
      const stats = await lstat(abs);
      if (stats.isSymbolicLink()) {
        nodes.push({ rel: childRel, kind: 'symlink', exec: false, content: await readlink(abs) });
      } else if (stats.isDirectory()) {
        nodes.push({ rel: childRel, kind: 'dir', exec: true, content: '' });
        await visit(childRel);
      } else {
        const content = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex');
        nodes.push({ rel: childRel, kind: 'file', exec: (stats.mode & 0o111) !== 0, content });
      }
    }
  };
  await visit('');
  return nodes;
}

export async function sha256OfFile(file: string): Promise<string> {
  return `sha256:${createHash('sha256')
    .update(await readFile(file))
    .digest('hex')}`;
}

/** Builds a tar.gz by hand, to feed the extractor archives that `packDirectory` would never write. */
export async function craftTarGz(
  file: string,
  entries: Array<Partial<Header> & { name: string; body?: string }>,
): Promise<void> {
  const tar = pack();
  for (const { body, ...header } of entries) tar.entry(header, body ?? '');
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  await writeFile(file, gzipSync(Buffer.concat(chunks)));
}

export async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(root, rel);
    await mkdir(join(abs, '..'), { recursive: true });
    await writeFile(abs, content);
  }
}

export async function listTarGz(file: string): Promise<Header[]> {
  const tar = extract();
  tar.end(gunzipSync(await readFile(file)));
  const headers: Header[] = [];
  for await (const entry of tar) {
    headers.push(entry.header);
    entry.resume();
  }
  return headers;
}
