import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SharedBuildLogs } from '../../src/features/builds/shared-build-logs.js';
import { engines } from '../support/engines.js';
import { cleanupAll, makeTempDir } from '../support/git-fixtures.js';
import { openTestDatabase } from '../support/test-database.js';

afterAll(cleanupAll);

// The copy of a growing log file into the database, with the timer's copies and the step's end
// racing: the database must hold the file's bytes once each, in order (a copy read at one offset
// and inserted at another once doubled a line).
describe.each(engines)('step logs copied into the database on $name', (engine) => {
  it('holds exactly the bytes of a file that grew while copies raced', async () => {
    const database = await openTestDatabase(engine);
    // A copy every millisecond, and every statement answered a few milliseconds late: copies
    // overlap while the file grows and while the step ends.
    const jittery = database.db.withPlugin({
      transformQuery: (a) => a.node,
      transformResult: async (a) => {
        await new Promise((r) => setTimeout(r, Math.random() * 4));
        return a.result;
      },
    });
    const logs = new SharedBuildLogs(jittery, pino({ level: 'silent' }), 1);
    try {
      const dir = await makeTempDir('gantry-shared-log-');
      const file = join(dir, '0.log');
      await writeFile(file, '');
      logs.track('bld_race', 0, file);
      let expected = '';
      for (let i = 0; i < 200; i++) {
        const line = `line ${i} ${'x'.repeat(i % 17)}\n`;
        expected += line;
        await appendFile(file, line);
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      // The step ends while the timer's copy of the last lines is under way.
      await new Promise((r) => setTimeout(r, 1));
      await logs.finish('bld_race', 0);
      const rest = async (from: number) => {
        let read = '';
        for (;;) {
          const chunk = await logs.read('bld_race', 0, from + Buffer.byteLength(read));
          if (chunk.length === 0) return read;
          read += chunk.toString('utf8');
        }
      };
      expect(await rest(0)).toBe(expected);
      // From any offset (inside a row too), the rest of the file.
      expect(await rest(Buffer.byteLength(expected.slice(0, 1234)))).toBe(expected.slice(1234));
    } finally {
      await logs.stop();
      await database.close();
    }
  });
});
