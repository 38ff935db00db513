import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackArtifact } from '../../features/artifacts/artifact-unpack.js';

const MARKER = '.gantry-unpacked';

export function releasesDir(workdir: string): string {
  return join(workdir, 'releases');
}

export function releaseDir(workdir: string, sha: string): string {
  return join(releasesDir(workdir), sha);
}

export function appLogFile(workdir: string, sha: string): string {
  return join(releaseDir(workdir, sha), 'app.log');
}

/** The digest of a completely unpacked release folder, or null. */
export async function unpackedDigest(workdir: string, sha: string): Promise<string | null> {
  const text = await readFile(join(releaseDir(workdir, sha), MARKER), 'utf8').catch(() => null);
  return text === null ? null : ((JSON.parse(text) as { digest?: string }).digest ?? '');
}

/**
 * Unpacks the artifact into `releases/<sha>` unless a complete copy is there. The marker is written
 * last, so a folder without it (Gantry killed mid-unpack) is unpacked again from scratch.
 * Returns whether it unpacked.
 */
export async function ensureUnpacked(
  workdir: string,
  sha: string,
  artifact: { path: string; digest: string },
): Promise<boolean> {
  if ((await unpackedDigest(workdir, sha)) !== null) return false;
  const dir = releaseDir(workdir, sha);
  await rm(dir, { recursive: true, force: true });
  await unpackArtifact(artifact.path, dir);
  await writeFile(join(dir, MARKER), JSON.stringify({ sha, digest: artifact.digest }));
  return true;
}

export async function listReleaseFolders(workdir: string): Promise<string[]> {
  const names = await readdir(releasesDir(workdir)).catch(() => [] as string[]);
  return names.filter((name) => !name.startsWith('.'));
}

/**
 * Keeps the `keep` most recently deployed folders and every protected one (serving, standby,
 * running); deletes the rest. Returns the deleted SHAs.
 */
export async function pruneReleaseFolders(
  workdir: string,
  history: string[],
  keep: number,
  protectedShas: Iterable<string>,
): Promise<string[]> {
  const kept = new Set([...history.slice(0, keep), ...protectedShas]);
  const deleted: string[] = [];
  for (const sha of await listReleaseFolders(workdir)) {
    if (kept.has(sha)) continue;
    await rm(releaseDir(workdir, sha), { recursive: true, force: true });
    deleted.push(sha);
  }
  return deleted;
}
