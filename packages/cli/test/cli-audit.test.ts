import type { AuditList, AuditVerify } from '@gantry/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/test-server.js';
import { type CliSandbox, makeCliSandbox } from './support/run-cli.js';

let server: TestServer;
let cli: CliSandbox;

beforeAll(async () => {
  server = await startTestServer({ name: 'sqlite' });
  cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
});

afterAll(async () => {
  await server?.close();
  await cli?.cleanup();
  await cleanupAll();
});

describe('gantry audit', () => {
  it('prints who changed what, where and with what outcome, filters, pages and verifies; exits 1 on a tampered log', async () => {
    expect((await server.api('POST', '/api/tokens', { name: 'ci', role: 'metrics' })).status).toBe(201);
    expect(
      (await server.api('PUT', '/api/apps/shop/forge', { provider: 'github', repo: 'a/b', token: 'ghp_x' }))
        .status,
    ).toBe(404);
    expect(
      (
        await server.api('POST', '/api/notifications/webhooks', {
          url: 'https://example.com/h',
          secret: 'whsec-abcdef012345',
        })
      ).status,
    ).toBe(201);

    const listed = await cli.run(['audit']);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+WHEN\s+WHO\s+WHAT\s+WHERE\s+OUTCOME$/);
    expect(lines[1]).toMatch(
      /^3\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z\s+token:admin \(127\.0\.0\.1\)\s+POST \/api\/notifications\/webhooks\s+201 ok$/,
    );
    expect(lines[2]).toMatch(/^2\s.*PUT \/api\/apps\/shop\/forge\s+shop\s+404 not found$/);
    expect(lines[3]).toMatch(/^1\s.*POST \/api\/tokens\s+201 ok$/);
    expect(listed.stdout).not.toContain('whsec-abcdef');

    const json = await cli.json<AuditList>(['audit', '--since', '1h', '--app', 'shop', '--json']);
    expect(json.entries.map((e) => [e.seq, e.route, (e.body as { token: string }).token])).toEqual([
      [2, '/api/apps/:app/forge', '***'],
    ]);
    const page = await cli.run(['audit', '--limit', '2']);
    expect(page.stdout).toContain('older entries: add --before 2');
    const older = await cli.json<AuditList>(['audit', '--before', '2', '--actor', 'admin', '--json']);
    expect(older.entries.map((e) => e.seq)).toEqual([1]);
    const badSince = await cli.run(['audit', '--since', 'last tuesday']);
    expect(badSince.code).toBe(1);
    expect(badSince.stderr).toContain('--since: "last tuesday" is not a time: give an age such as 30m');

    const ok = await cli.run(['audit', 'verify']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^the audit log checks out: 3 rows \(1…3\)\nhead: row 3 [0-9a-f]{64}\n$/);

    await server.gantry.database.db
      .updateTable('audit_log')
      .set({ status: 200 })
      .where('seq', '=', 2)
      .execute();
    const broken = await cli.run(['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /^error: the audit log is broken at row 2 \(written \d{4}-.*Z\): its hash does not match its content: the row was changed after it was written\n1 rows before it check out\n$/,
    );
    const brokenJson = await cli.run(['audit', 'verify', '--json']);
    expect(brokenJson.code).toBe(1);
    const v = JSON.parse(brokenJson.stdout) as AuditVerify;
    expect(v).toMatchObject({ ok: false, rows: 1, firstBroken: { seq: 2 }, head: { seq: 3 } });
  });
});
