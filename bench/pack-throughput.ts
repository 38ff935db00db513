import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packDirectory } from '../packages/server/src/features/artifacts/artifact-pack.js';
import { Scope } from './support.js';

const MB = 1024 * 1024;
const FILES = 200;

export interface PackThroughput {
  mb: number;
  ms: number;
  mbPerSec: number;
  digest: string;
}

/** Packs a fresh ~sizeMb folder (half compressible text, half random bytes) and times it. */
export async function benchPackThroughput(sizeMb = 100): Promise<PackThroughput> {
  const scope = new Scope();
  try {
    const work = await scope.tempDir('pack');
    const dist = join(work, 'dist');
    const fileSize = Math.ceil((sizeMb * MB) / FILES);
    let bytes = 0;
    for (let i = 0; i < FILES; i++) {
      const dir = join(dist, `dir-${i % 10}`);
      await mkdir(dir, { recursive: true });
      const data = i % 2 ? randomBytes(fileSize) : text(fileSize, i);
      await writeFile(join(dir, `file-${i}.${i % 2 ? 'bin' : 'txt'}`), data);
      bytes += data.length;
    }
    const started = performance.now();
    const { digest } = await packDirectory(dist, join(work, 'out.tar.gz'));
    const ms = performance.now() - started;
    const mb = bytes / MB;
    return { mb: round(mb), ms: Math.round(ms), mbPerSec: round(mb / (ms / 1000)), digest };
  } finally {
    await scope.close();
  }
}

function text(size: number, seed: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let n = 0; length < size; n++) {
    const line = `${seed}:${n} export function handler${n % 97}(req, res) { return res.send({ ok: true }); }\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, size);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchPackThroughput(Number(process.argv[2] ?? 100))));
}
