import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { constants, gzipSync } from 'node:zlib';

export interface Sizes {
  files: string[];
  raw: number;
  /** gzip at zlib's default level (6), as a server or CDN typically sends it. */
  gzip: number;
  /** gzip -9, for comparison. */
  gzip9: number;
}

export interface BundleSizes {
  /** The JavaScript a first visit of `/` downloads: the entry script and its modulepreloads. */
  initialJs: Sizes;
  initialCss: Sizes;
  /** The chunks loaded later (other pages), for information. */
  lazyJs: Sizes;
  /** The biggest chunks, initial and lazy, gzip (default level). */
  largest: { file: string; gzip: number; initial: boolean }[];
  buildMs: number;
  goalBytes: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `node scripts/build-web.mjs --out <dir>`: the console as the server serves it. */
export async function buildConsole(outDir: string): Promise<number> {
  const started = performance.now();
  await promisify(execFile)(
    process.execPath,
    ['scripts/build-web.mjs', '--quiet', '--force', '--out', outDir],
    {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return performance.now() - started;
}

/** Reads the built index.html: what a first visit loads, gzipped the way a server would send it. */
export async function bundleSizes(webDir: string, buildMs: number): Promise<BundleSizes> {
  const html = await readFile(join(webDir, 'index.html'), 'utf8');
  const tags = [...html.matchAll(/<(script|link)\b([^>]*)>/g)].map((m) => ({
    tag: m[1]!,
    attrs: Object.fromEntries(
      [...m[2]!.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].map((a) => [a[1]!, a[2] ?? '']),
    ),
  }));
  const local = (href: string | undefined) => (href?.startsWith('/') ? href.slice(1) : undefined);
  const initialJs = tags
    .map((t) =>
      t.tag === 'script' && t.attrs.type === 'module'
        ? local(t.attrs.src)
        : t.tag === 'link' && t.attrs.rel === 'modulepreload'
          ? local(t.attrs.href)
          : undefined,
    )
    .filter((f): f is string => f !== undefined);
  const initialCss = tags
    .filter((t) => t.tag === 'link' && t.attrs.rel === 'stylesheet')
    .map((t) => local(t.attrs.href))
    .filter((f): f is string => f !== undefined);
  if (initialJs.length === 0) throw new Error(`${webDir}/index.html loads no module script`);
  const assets = (await readdir(join(webDir, 'assets'))).map((f) => `assets/${f}`);
  const lazyJs = assets.filter((f) => f.endsWith('.js') && !initialJs.includes(f));

  const measured = new Map<string, { raw: number; gzip: number; gzip9: number }>();
  const measure = async (files: string[]): Promise<Sizes> => {
    const out: Sizes = { files, raw: 0, gzip: 0, gzip9: 0 };
    for (const f of files) {
      const buf = await readFile(join(webDir, f));
      const m = {
        raw: buf.length,
        gzip: gzipSync(buf, { level: constants.Z_DEFAULT_COMPRESSION }).length,
        gzip9: gzipSync(buf, { level: 9 }).length,
      };
      measured.set(f, m);
      out.raw += m.raw;
      out.gzip += m.gzip;
      out.gzip9 += m.gzip9;
    }
    return out;
  };
  const result: BundleSizes = {
    initialJs: await measure(initialJs),
    initialCss: await measure(initialCss),
    lazyJs: await measure(lazyJs),
    largest: [],
    buildMs,
    goalBytes: 250_000,
  };
  result.largest = [...initialJs, ...lazyJs]
    .map((file) => ({ file, gzip: measured.get(file)!.gzip, initial: initialJs.includes(file) }))
    .sort((a, b) => b.gzip - a.gzip)
    .slice(0, 4);
  return result;
}

/** The gzip size (default level) of built files named by their URL path, e.g. `/assets/x.js`. */
export async function gzipOf(webDir: string, paths: string[]): Promise<number> {
  let total = 0;
  for (const p of paths) total += gzipSync(await readFile(join(webDir, p.replace(/^\//, '')))).length;
  return total;
}
