import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetricsReport } from '@gantry/server';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, yamlWithSteps } from '../../server/test/support/app-fixture.js';
import { engines } from '../../server/test/support/engines.js';
import { cleanupAll } from '../../server/test/support/git-fixtures.js';
import { startTestServer } from '../../server/test/support/test-server.js';
import { freePort, makeCliSandbox } from './support/run-cli.js';

afterAll(cleanupAll);

/**
 * One count of releases (docs/metrics.md, "Release frequency"): releases applied plus toggles switched
 * on outside a release. The API, `gantry metrics`, the HTML report and Prometheus must all say the same.
 */
describe.each(engines)('one count of releases on $name', (engine) => {
  it('is the same in the API, the CLI, the HTML report and Prometheus', async () => {
    const server = await startTestServer(engine);
    const cli = await makeCliSandbox({ GANTRY_URL: server.url, GANTRY_TOKEN: server.token });
    try {
      // Declared, never deployed to: the metrics of an environment need it to exist.
      const envs = `environments:\n  staging: { port: ${await freePort()} }\n  production: { promote_from: staging, port: ${await freePort()} }\n`;
      await createApp(server, yamlWithSteps(['true'], envs));
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const put = (toggle: string, env: string, enabled: boolean) =>
        server.api('PUT', `/api/apps/shop/toggles/${toggle}/environments/${env}`, { enabled });
      const release = async (name: string, changes: [string, string, boolean][]) => {
        await server.api('POST', '/api/releases', { name });
        for (const [toggle, env, enabled] of changes)
          await server.api('POST', `/api/releases/${name}/changes`, {
            app: 'shop',
            toggle,
            env,
            change: { enabled },
          });
      };
      for (const name of ['a', 'b', 'c', 'd']) await server.api('POST', '/api/apps/shop/toggles', { name });

      // Toggles switched on alone in production: a (twice) and b. Counted: 3.
      await put('a', 'production', true);
      await put('a', 'production', false);
      await put('a', 'production', true);
      await put('b', 'production', true);
      await put('d', 'staging', true); // another environment
      // Releases applied in production: r1 and r2 (reverted: it was applied; its revert switches b on
      // again, which is not a release). Counted: 2. r1's own switch-on of c is part of r1.
      await release('r1', [
        ['c', 'production', true],
        ['a', 'staging', true],
      ]);
      expect((await server.api('POST', '/api/releases/r1/apply')).status).toBe(200);
      await release('r2', [['b', 'production', false]]);
      expect((await server.api('POST', '/api/releases/r2/apply')).status).toBe(200);
      expect((await server.api('POST', '/api/releases/r2/revert')).status).toBe(200);
      // Never applied: cancelled, unscheduled, and one of another environment.
      await release('r3', [['d', 'production', true]]);
      await server.api('POST', '/api/releases/r3/cancel');
      await release('r4', [['d', 'production', true]]);
      await server.api('POST', '/api/releases/r4/schedule', {
        at: new Date(Date.now() + 3_600_000).toISOString(),
      });
      await server.api('POST', '/api/releases/r4/unschedule');
      await release('r5', [['d', 'staging', false]]);
      await server.api('POST', '/api/releases/r5/apply');
      const to = new Date(Date.now() + 60_000).toISOString();
      const scope = ['--app', 'shop', '--env', 'production', '--from', from, '--to', to, '--bucket', 'day'];

      // The API.
      const { body: api } = await server.api<MetricsReport>(
        'GET',
        `/api/metrics?app=shop&env=production&from=${from}&to=${to}&bucket=day`,
      );
      expect(api.releaseFrequency).toMatchObject({ releases: 5, releasesApplied: 2, togglesOn: 3 });
      expect(api.trend.releases.current).toBe(5);
      expect(api.series.reduce((s, p) => s + p.releases, 0)).toBe(5);

      // The CLI: its headline row and the RELEASES column of its series.
      const text = await cli.run(['metrics', ...scope]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(
        /Releases \(apart\)\s+5: 2 releases applied, 3 toggles switched on outside a release/,
      );
      const lines = text.stdout.split('\n');
      const header = lines.findIndex((l) => /^START\s.*\sRELEASES\s/.test(l));
      expect(header).toBeGreaterThan(0);
      // Columns are aligned (some headers, such as LEAD TIME, are two words): read at RELEASES' offset.
      const column = lines[header]!.indexOf('RELEASES');
      let sum = 0;
      for (const line of lines.slice(header + 1)) {
        if (!/^\d{4}-\d\d-\d\d/.test(line)) break;
        sum += Number(line.slice(column).split(/\s+/)[0]);
      }
      expect(sum).toBe(5);
      expect((await cli.json<MetricsReport>(['metrics', ...scope, '--json'])).releaseFrequency.releases).toBe(
        5,
      );

      // The HTML report.
      const page = join(cli.cwd, 'report.html');
      const report = await cli.run(['report', '--html', page, ...scope]);
      expect(report.code, report.stderr).toBe(0);
      const html = await readFile(page, 'utf8');
      expect(html).toMatch(
        /<tr data-metric="releases"><th scope="row">Releases<\/th><td class="value">5<\/td><td class="detail">2 releases applied and 3 toggles switched on outside a release/,
      );

      // Prometheus: gantry_releases_total over all time (the whole history is inside the window).
      const res = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${server.token}` },
      });
      const prom = await res.text();
      const sample = (kind: string) =>
        Number(
          prom.match(
            new RegExp(`^gantry_releases_total\\{app="shop",env="production",kind="${kind}"\\} (\\d+)$`, 'm'),
          )?.[1],
        );
      expect(prom).toContain('# TYPE gantry_releases_total counter');
      expect([sample('release'), sample('toggle')]).toEqual([2, 3]);
      expect(sample('release') + sample('toggle')).toBe(api.releaseFrequency.releases);
    } finally {
      await server.close();
      await cli.cleanup();
    }
  });
});
