import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresApplicationName } from '../../src/db/dialects/postgres.js';
import { createApp, finishedBuild, yamlWithSteps } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer, waitFor } from '../support/test-server.js';

afterAll(cleanupAll);

/**
 * `pg_terminate_backend` of every connection of one server (found by its application_name, so
 * other tests' connections live on), as a PostgreSQL restart or failover would do to it.
 */
describe.each(engines.filter((e) => e.name === 'postgres'))('PostgreSQL drops the connections', (engine) => {
  let server: TestServer;
  let admin: pg.Client;
  let appName: string;
  let schema: string;
  /** What the server logged at warn and above, one JSON line each. */
  let logged: string[];

  beforeEach(async () => {
    logged = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
    server = await startTestServer(engine, {}, logger);
    const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(
      server.gantry.database.db,
    );
    schema = rows[0]!.s;
    appName = postgresApplicationName(schema);
    admin = new pg.Client({ connectionString: engine.url, application_name: 'gantry-test-admin' });
    await admin.connect();
  });
  afterEach(async () => {
    await admin.end();
    await server.close();
  });

  const backends = async (where = 'true') =>
    (
      await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where application_name = $1 and ${where}`,
        [appName],
      )
    ).rows.map((r) => r.pid);

  /** Terminates them and waits until they are gone; returns how many there were. */
  async function terminateAll(): Promise<number> {
    const pids = await backends();
    for (const pid of pids) await admin.query('select pg_terminate_backend($1)', [pid]);
    await waitFor(
      async () => ((await backends()).some((p) => pids.includes(p)) ? undefined : true),
      'the terminated backends to go away',
    );
    return pids.length;
  }

  it('while idle: the server keeps serving and the next query reconnects', async () => {
    expect((await server.api('GET', '/api/apps')).status).toBe(200);
    expect(await terminateAll()).toBeGreaterThan(0);
    // The pool sees its idle connections close (that event killed the process before) and says so.
    await waitFor(
      async () => logged.some((l) => l.includes('a PostgreSQL connection was lost')) || undefined,
      'the server to log the lost idle connection',
    );
    const res = await server.api<unknown[]>('GET', '/api/apps');
    expect(res.status).toBe(200);
    expect((await server.api('POST', '/api/tokens', { name: 'after' })).status).toBe(201);
    expect((await backends()).length).toBeGreaterThan(0);
  });

  it('while requests run: a read succeeds on a new connection, a write gets a clean 503', async () => {
    expect((await server.api('GET', '/api/apps')).status).toBe(200); // the token is checked (and cached) now
    // Hold locks so that both requests are inside a query when their connection is terminated.
    // (From another connection: pg_stat_activity stays the same for the length of a transaction.)
    const locker = new pg.Client({ connectionString: engine.url, application_name: 'gantry-test-locker' });
    await locker.connect();
    await locker.query('begin');
    await locker.query(`lock table "${schema}".events, "${schema}".tokens in access exclusive mode`);
    const read = server.api<unknown[]>('GET', '/api/events?after=0');
    const write = server.api<{ message?: string }>('POST', '/api/tokens', { name: 'during' });
    await waitFor(async () => {
      const waiting = (where: string) => backends(`wait_event_type = 'Lock' and ${where}`);
      const reading = await waiting(`query ilike 'select % from "events"%'`);
      const writing = await waiting(`query ilike 'insert into "tokens"%'`);
      return reading.length && writing.length ? true : undefined;
    }, 'the read and the write to wait on the locks');
    try {
      await terminateAll();
    } finally {
      await locker.query('commit');
      await locker.end();
    }

    const r = await read;
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(true);
    const w = await write;
    // An INSERT is not sent again (it may have been applied): the client is told to retry.
    expect(w.status).toBe(503);
    expect(w.body.message).toMatch(/^database unavailable: .+; try again$/);
    expect((await server.api('GET', '/api/apps')).status).toBe(200);
  });

  it('while a build runs: the build finishes', async () => {
    // The step and the test talk through the worktree: the build sandbox hides the rest of the disk.
    const app = await createApp(
      server,
      yamlWithSteps(['touch started; while [ ! -f go ]; do sleep 0.05; done; echo built', 'echo second']),
    );
    const worktree = join(server.dataDir, 'work', app.buildIds[0]!);
    await waitFor(
      async () => (existsSync(join(worktree, 'started')) ? true : undefined),
      'the step to start',
    );
    expect(await terminateAll()).toBeGreaterThan(0);
    await writeFile(join(worktree, 'go'), '');
    const b = await finishedBuild(server, app.buildIds[0]!);
    expect(b.status).toBe('succeeded');
    expect(b.steps?.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
  });
});
