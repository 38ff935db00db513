import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/server-config.js';
import { pruneBuildLogs, pruneServerLogs } from '../../src/features/builds/log-retention.js';
import { createServerLog } from '../../src/server-log.js';
import { startServer } from '../../src/start-server.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { waitFor } from '../support/test-server.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

afterAll(cleanupAll);

/** `<dir>/<id>/0.log` and `1.log`, both last written `daysAgo` days before NOW. */
async function logDir(dir: string, id: string, daysAgo: number): Promise<void> {
  await mkdir(join(dir, id), { recursive: true });
  const at = new Date(NOW - daysAgo * DAY);
  for (const f of ['0.log', '1.log']) {
    await writeFile(join(dir, id, f), `${id} ${f}\n`);
    await utimes(join(dir, id, f), at, at);
  }
  await utimes(join(dir, id), at, at);
}

const id = (i: number) => `bld_${(0x1000 + i).toString(16)}`;

describe('build log retention', () => {
  it('keeps the newest N whatever their age, and older ones until the age limit; never a running build', async () => {
    const logs = await makeTempDir('gantry-logs-');
    // 30 builds, one a day: bld_…(i) was written i days ago.
    for (let i = 0; i < 30; i++) await logDir(logs, id(i), i);
    // An old build still running (a long build that logs rarely): its folder is old but must stay.
    const running = new Set([id(25)]);

    const result = await pruneBuildLogs(logs, { keep: 5, maxAgeMs: 10 * DAY }, running, NOW);

    // Kept: the 5 newest (0–4), everything up to 10 days old (5–10), and the running one (25).
    const expectedKept = [...Array.from({ length: 11 }, (_, i) => id(i)), id(25)].sort();
    expect((await readdir(logs)).sort()).toEqual(expectedKept);
    expect(result.removed.sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => i > 10 && i !== 25)
        .map(id)
        .sort(),
    );
    expect(result.kept).toBe(12);
  });

  it('the count is a floor: the newest N stay even when all are past the age limit', async () => {
    const logs = await makeTempDir('gantry-logs-');
    for (let i = 0; i < 8; i++) await logDir(logs, id(i), 100 + i);
    await pruneBuildLogs(logs, { keep: 3, maxAgeMs: DAY }, new Set(), NOW);
    expect((await readdir(logs)).sort()).toEqual([id(0), id(1), id(2)]);
  });

  it('a folder counts as new when any of its files was written lately', async () => {
    const logs = await makeTempDir('gantry-logs-');
    await logDir(logs, id(1), 50);
    await logDir(logs, id(2), 50);
    const fresh = new Date(NOW - DAY);
    await utimes(join(logs, id(1), '1.log'), fresh, fresh); // its second step wrote yesterday
    const { removed } = await pruneBuildLogs(logs, { keep: 0, maxAgeMs: 10 * DAY }, new Set(), NOW);
    expect(removed).toEqual([id(2)]);
  });

  it('runs at server start and logs what it removed', async () => {
    const dataDir = await makeTempDir('gantry-data-');
    const logs = join(dataDir, 'logs');
    const now = Date.now();
    for (let i = 0; i < 6; i++) {
      await mkdir(join(logs, id(i)), { recursive: true });
      await writeFile(join(logs, id(i), '0.log'), 'x\n');
      const at = new Date(now - (i + 1) * 40 * DAY);
      await utimes(join(logs, id(i), '0.log'), at, at);
    }
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const { config } = loadServerConfig(
      { dataDir, port: 0, defaultPollIntervalMs: 0 },
      { GANTRY_BUILD_LOGS_KEEP: '2', GANTRY_BUILD_LOGS_MAX_AGE: '30d' },
    );
    const server = await startServer(config, { logger: pino({ level: 'info' }, sink) });
    try {
      const said = await waitFor(
        async () => lines.map((l) => JSON.parse(l)).find((l) => /build logs: removed/.test(l.msg)),
        'the prune to be logged',
      );
      expect(said.removed.sort()).toEqual([id(2), id(3), id(4), id(5)]);
      expect((await readdir(logs)).sort()).toEqual([id(0), id(1)]);
    } finally {
      await server.stop();
    }
  });

  it('reads its settings with units and refuses nonsense', () => {
    const ok = loadServerConfig({}, { GANTRY_BUILD_LOGS_MAX_AGE: '12h', GANTRY_LOG_FILE_SIZE: '512k' });
    expect(ok.errors).toEqual([]);
    expect(ok.config.buildLogsMaxAgeMs).toBe(12 * 3_600_000);
    expect(ok.config.logFileMaxBytes).toBe(512 * 1024);
    expect(ok.config.buildLogsKeep).toBe(500);
    const bad = loadServerConfig({}, { GANTRY_BUILD_LOGS_MAX_AGE: '30', GANTRY_LOG_FILE_SIZE: 'big' });
    expect(bad.errors).toEqual([
      'GANTRY_BUILD_LOGS_MAX_AGE=30: expected a whole number and a unit (s, m, h, d), e.g. 30d',
      'GANTRY_LOG_FILE_SIZE=big: expected a size such as 10m, 512k or 1g',
    ]);
  });
});

describe('server log file', () => {
  it('is rotated by size, keeps a bounded set of files, each 0600', async () => {
    const dir = await makeTempDir('gantry-serverlog-');
    const file = join(dir, 'gantry.log');
    const { config } = loadServerConfig(
      { dataDir: dir, logLevel: 'info' },
      { GANTRY_LOG_FILE: file, GANTRY_LOG_FILE_SIZE: '2k', GANTRY_LOG_FILE_KEEP: '2' },
    );
    const log = await createServerLog(config);
    const rotated = async () => (await readdir(dir)).filter((f) => /^gantry\.\d+\.log$/.test(f));
    const number = (f: string) => Number(f.split('.')[1]);
    // Log until the file has been rotated a few times (pino-roll rotates once a write has drained).
    let last = 0;
    for (let i = 0; last < 5; i++) {
      expect(i).toBeLessThan(5000);
      log.logger.info({ i, pad: 'x'.repeat(200) }, 'line');
      await new Promise((r) => setTimeout(r, 2));
      last = Math.max(...(await rotated()).map(number));
    }
    log.logger.info('last line');
    // Older files are removed right after a rotation.
    const names = await waitFor(async () => {
      const files = await rotated();
      return files.length <= 3 ? files : undefined;
    }, 'old log files to be removed');
    await log.close();
    // The file in use and at most 2 older ones; never anyone else's to read.
    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const f of names) expect((await stat(join(dir, f))).mode & 0o777).toBe(0o600);
    const newest = names.sort((a, b) => number(b) - number(a))[0]!;
    const lastLine = (await readFile(join(dir, newest), 'utf8')).trim().split('\n').at(-1)!;
    expect(JSON.parse(lastLine)).toMatchObject({ msg: 'last line' });
  });

  it('rotated files past the age limit are removed, the one in use never', async () => {
    const dir = await makeTempDir('gantry-serverlog-');
    for (const n of [3, 4, 5, 6, 7]) {
      await writeFile(join(dir, `gantry.${n}.log`), `${n}\n`);
      const at = new Date(NOW - (8 - n) * 10 * DAY); // 7 is 10 days old, 3 is 50
      await utimes(join(dir, `gantry.${n}.log`), at, at);
    }
    await writeFile(join(dir, 'other.1.log'), 'not ours\n');
    const old = new Date(NOW - 400 * DAY);
    await utimes(join(dir, 'gantry.7.log'), old, old); // the file in use, even if idle for long
    const { removed } = await pruneServerLogs(join(dir, 'gantry.log'), { keep: 3, maxAgeMs: 25 * DAY }, NOW);
    expect(removed.sort()).toEqual(['gantry.3.log', 'gantry.4.log', 'gantry.5.log']);
    expect((await readdir(dir)).sort()).toEqual(['gantry.6.log', 'gantry.7.log', 'other.1.log']);
  });
});
