import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Build } from '@gantry/contracts';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogTail, TAIL_LINE_CAP } from '../../src/features/builds/log-tail.js';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

describe('the last lines of a step', () => {
  it('keeps the last n lines, a line split across chunks in one piece', () => {
    const t = new LogTail(3);
    for (const c of ['one\ntw', 'o\nthr', 'ee\n', 'four', '\nfi', 've']) t.push(Buffer.from(c));
    expect(t.text()).toBe('three\nfour\nfive');
    t.push(Buffer.from('\n'));
    expect(t.text()).toBe('three\nfour\nfive');
  });

  it('keeps empty lines and a multi-byte character split across chunks', () => {
    const t = new LogTail(5);
    const euro = Buffer.from('a€b\n\nc\n');
    t.push(euro.subarray(0, 2));
    t.push(euro.subarray(2));
    expect(t.text()).toBe('a€b\n\nc');
  });

  it('cuts a long line at the cap and says how long it was, however it arrives', () => {
    const t = new LogTail(20, 10);
    for (let i = 0; i < 1000; i++) t.push(Buffer.from('x'.repeat(1000)));
    expect(t.text()).toBe('xxxxxxxxxx … [line cut: 1 MB]');
    t.push(Buffer.from('\nshort\n'));
    expect(t.text()).toBe('xxxxxxxxxx … [line cut: 1 MB]\nshort');
  });
});

describe('build logs that cannot be written or are huge', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => server.close());

  it('a log write error (disk full: the log is /dev/full) fails that build with the reason and nothing else', async () => {
    // Step s0 waits until the test has pointed the log of step s1 at /dev/full (through the worktree,
    // which the step can see in the sandbox too).
    const app = await createApp(
      server,
      yamlWithSteps([
        'while [ ! -f go ]; do sleep 0.05; done',
        'echo to a full disk; i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done; sleep 600',
        'echo never',
      ]),
    );
    const id = app.buildIds[0]!;
    const worktree = join(server.dataDir, 'work', id);
    await waitFor(async () => (existsSync(worktree) ? true : undefined), 'the worktree');
    const log1 = server.gantry.builds.logPath(id, 1);
    await mkdir(dirname(log1), { recursive: true });
    await symlink('/dev/full', log1);
    await writeFile(join(worktree, 'go'), '');

    const b = await finishedBuild(server, id);
    expect(b.status).toBe('failed');
    expect(b.error).toMatch(/^could not write the build log .*1\.log: ENOSPC/);
    expect(b.steps?.map((s) => s.status)).toEqual(['succeeded', 'failed', 'skipped']);

    // The server is up and builds again.
    const next = await app.pushFiles({ 'gantry.yaml': yamlWithSteps(['echo fine']) });
    const res = await server.api<{ buildIds: string[] }>('POST', '/api/apps/shop/sync');
    const again = await finishedBuild(server, res.body.buildIds[0]!);
    expect(again).toMatchObject({ sha: next, status: 'succeeded' });
  });

  it('a step printing one 80 MB line finishes, its tail is capped, and /healthz answers meanwhile', async () => {
    const app = await createApp(
      server,
      yamlWithSteps([
        "touch started; head -c 80000000 /dev/zero | tr '\\0' a; echo; echo after; while [ ! -f go ]; do sleep 0.05; done; exit 3",
      ]),
    );
    const id = app.buildIds[0]!;
    const worktree = join(server.dataDir, 'work', id);
    await waitFor(
      async () => (existsSync(join(worktree, 'started')) ? true : undefined),
      'the step to start',
    );
    // While the line is being written: the server answers.
    let answered = 0;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/healthz`);
      if (res.ok) answered++;
    }
    expect(answered).toBe(5);
    await writeFile(join(worktree, 'go'), '');

    const b: Build = await finishedBuild(server, id, 120_000);
    expect(b.status).toBe('failed');
    const marker = ' … [line cut: 80 MB]';
    expect(b.error).toContain(`${'a'.repeat(100)}${marker}\nafter`);
    const { log_tail } = await server.gantry.database.db
      .selectFrom('build_steps')
      .select('log_tail')
      .where('build_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(log_tail).toBe(`${'a'.repeat(TAIL_LINE_CAP)}${marker}\nafter`);
    expect(Buffer.byteLength(log_tail!)).toBeLessThanOrEqual(
      TAIL_LINE_CAP + Buffer.byteLength(`${marker}\nafter`),
    );

    // The whole log is on disk and readable through the API, in bounded pieces.
    const log = await fetch(`${server.url}/api/builds/${id}/logs?step=0`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    let bytes = 0;
    for await (const chunk of log.body!) bytes += (chunk as Uint8Array).length;
    expect(bytes).toBeGreaterThan(80_000_000);
  });
});
