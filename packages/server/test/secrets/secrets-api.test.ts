import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type GantryEvent, type KeyRotation, type Secret, secretNameProblem } from '@gantry/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SecretKeys } from '../../src/features/secrets/secret-keys.js';
import { createApp, yamlWithSteps } from '../support/app-fixture.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

afterAll(cleanupAll);

const DB_URL = `postgres://shop:${randomBytes(8).toString('hex')}@db.internal/shop`;
const QA_URL = `postgres://shop:${randomBytes(8).toString('hex')}@qa-db.internal/shop`;

describe.each(engines)('secrets through the API ($name)', (engine) => {
  let server: TestServer;
  afterEach(async () => server?.close());

  async function rows() {
    return server.gantry.database.db.selectFrom('secrets').selectAll().orderBy('env').execute();
  }

  it('sets, lists and removes secrets; never returns a value nor stores or records the plaintext', async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    const set = await server.api<{ secret: Secret; created: boolean }>(
      'PUT',
      '/api/apps/shop/secrets/DATABASE_URL',
      {
        value: DB_URL,
      },
    );
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      created: true,
      secret: { name: 'DATABASE_URL', env: null, updatedBy: 'token:admin' },
    });
    const qa = await server.api('PUT', '/api/apps/shop/secrets/DATABASE_URL', { value: QA_URL, env: 'qa' });
    expect(qa.status).toBe(200);
    const again = await server.api<{ created: boolean }>('PUT', '/api/apps/shop/secrets/DATABASE_URL', {
      value: `${DB_URL}?sslmode=require`,
    });
    expect(again.body.created).toBe(false);

    const list = await server.api<Secret[]>('GET', '/api/apps/shop/secrets');
    expect(list.status).toBe(200);
    expect(list.body.map((s) => [s.name, s.env])).toEqual([
      ['DATABASE_URL', null],
      ['DATABASE_URL', 'qa'],
    ]);
    for (const s of list.body)
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'env', 'name', 'updatedAt', 'updatedBy']);
    for (const answer of [set, qa, again, list]) {
      expect(JSON.stringify(answer.body)).not.toContain(DB_URL);
      expect(JSON.stringify(answer.body)).not.toContain(QA_URL);
    }

    // At rest: sealed, with the key id, and nothing of the value in any column (nor in its base64).
    const stored = await rows();
    expect(stored).toHaveLength(2);
    const keyFile = JSON.parse(await readFile(join(server.dataDir, 'secrets.key'), 'utf8')) as {
      current: string;
    };
    for (const r of stored) {
      expect(r.key_id).toBe(keyFile.current);
      expect(Buffer.from(r.iv, 'base64')).toHaveLength(12);
      const all = `${JSON.stringify(r)} ${Buffer.from(r.ciphertext, 'base64').toString('latin1')}`;
      expect(all).not.toContain('db.internal');
      expect(all).not.toContain(Buffer.from(QA_URL).toString('base64'));
    }

    // Only the server reads them back, each environment's over the app-wide value.
    const app = await server.gantry.apps.get('shop');
    expect(await server.gantry.secrets.secretsFor(app, 'qa', ['DATABASE_URL'])).toEqual({
      DATABASE_URL: QA_URL,
    });
    expect(await server.gantry.secrets.secretsFor(app, 'staging', ['DATABASE_URL'])).toEqual({
      DATABASE_URL: `${DB_URL}?sslmode=require`,
    });

    const removed = await server.api('DELETE', '/api/apps/shop/secrets/DATABASE_URL?env=qa');
    expect(removed).toEqual({ status: 200, body: { removed: true } });
    const gone = await server.api<{ message: string }>(
      'DELETE',
      '/api/apps/shop/secrets/DATABASE_URL?env=qa',
    );
    expect(gone.status).toBe(404);
    expect(gone.body.message).toBe(
      'shop has no secret DATABASE_URL for qa; see `gantry secrets list --app shop`',
    );
    expect(await server.gantry.secrets.secretsFor(app, 'qa', ['DATABASE_URL'])).toEqual({
      DATABASE_URL: `${DB_URL}?sslmode=require`,
    });

    const events = (await server.api<GantryEvent[]>('GET', '/api/events?app=shop&limit=1000')).body;
    const mine = events.filter((e) => e.type.startsWith('secret.'));
    expect(mine.map((e) => [e.type, e.subject, e.data])).toEqual([
      ['secret.set', 'DATABASE_URL', { name: 'DATABASE_URL', env: null, created: true }],
      ['secret.set', 'DATABASE_URL', { name: 'DATABASE_URL', env: 'qa', created: true }],
      ['secret.set', 'DATABASE_URL', { name: 'DATABASE_URL', env: null, created: false }],
      ['secret.removed', 'DATABASE_URL', { name: 'DATABASE_URL', env: 'qa' }],
    ]);
    expect(JSON.stringify(events)).not.toContain('db.internal');

    // A removed app takes its secrets with it.
    expect((await server.api('DELETE', '/api/apps/shop')).status).toBe(200);
    expect(await rows()).toEqual([]);
  });

  it('refuses bad names, values and environments with a 400 that says why', async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    const put = (name: string, body: unknown) =>
      server.api<{ message: string }>('PUT', `/api/apps/shop/secrets/${encodeURIComponent(name)}`, body);
    const cases: [string, unknown, string][] = [
      [
        '1PASSWORD',
        { value: 'long-enough' },
        '"1PASSWORD" is not a valid secret name: secrets become environment variables',
      ],
      ['API-KEY', { value: 'long-enough' }, '"API-KEY" is not a valid secret name'],
      ['API KEY', { value: 'long-enough' }, '"API KEY" is not a valid secret name'],
      ['GANTRY_TOKEN', { value: 'long-enough' }, 'GANTRY_TOKEN is reserved: Gantry sets GANTRY_* itself'],
      ['PATH', { value: 'long-enough' }, 'PATH is reserved: the sandbox sets it'],
      ['HOME', { value: 'long-enough' }, 'HOME is reserved'],
      ['PORT', { value: 'long-enough' }, 'PORT is reserved: the drivers tell the app its port in it'],
      ['CI', { value: 'long-enough' }, 'CI is reserved'],
      [
        'TOKEN',
        { value: 'abc' },
        'the value of TOKEN is shorter than 4 characters: Gantry masks every secret',
      ],
      ['TOKEN', { value: '' }, 'shorter than 4 characters'],
      ['TOKEN', { value: 'long-enough', env: 'Prod' }, 'env: "Prod" is not a valid environment name'],
      ['TOKEN', { value: 'long-enough', evn: 'qa' }, 'evn'],
      ['TOKEN', { value: 1234 }, 'value'],
      ['TOKEN', { value: 'x'.repeat(64 * 1024 + 1) }, 'value'],
    ];
    for (const [name, body, message] of cases) {
      const res = await put(name, body);
      expect(res.status, `${name} ${JSON.stringify(body).slice(0, 80)}`).toBe(400);
      expect(res.body.message).toContain(message);
    }
    // Past 100 characters Fastify refuses the path itself (maxParamLength); 128 is the rule's limit.
    const long = await put('A'.repeat(129), { value: 'long-enough' });
    expect([400, 414]).toContain(long.status);
    expect(long.body.message).toMatch(/too long for a secret name|exceeding the max param length/);
    expect(secretNameProblem('A'.repeat(128))).toBeNull();
    expect(secretNameProblem('A'.repeat(129))).toContain('at most 128 characters');
    const del = await server.api<{ message: string }>('DELETE', '/api/apps/shop/secrets/GANTRY_X');
    expect(del.status).toBe(400);
    expect(del.body.message).toContain('GANTRY_X is reserved');
    const unknown = await server.api('PUT', '/api/apps/nope/secrets/TOKEN', { value: 'long-enough' });
    expect(unknown.status).toBe(404);
    expect(await rows()).toEqual([]);
  });

  it('a changed or moved ciphertext fails to decrypt with a message naming the secret', async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    await server.api('PUT', '/api/apps/shop/secrets/API_TOKEN', { value: 'app-wide-token' });
    await server.api('PUT', '/api/apps/shop/secrets/API_TOKEN', { value: 'qa-only-token', env: 'qa' });
    const app = await server.gantry.apps.get('shop');
    const db = server.gantry.database.db;
    const [wide, qa] = await rows();
    // The qa value copied over the app-wide one: sealed for another place, it does not open there.
    await db
      .updateTable('secrets')
      .set({ iv: qa!.iv, ciphertext: qa!.ciphertext })
      .where('id', '=', wide!.id)
      .execute();
    await expect(server.gantry.secrets.secretsFor(app, null, ['API_TOKEN'])).rejects.toThrow(
      /^secret API_TOKEN of shop \(app-wide\) does not decrypt with key k[0-9a-f]{16}: its stored ciphertext was changed, or copied from another secret/,
    );
    const bytes = Buffer.from(qa!.ciphertext, 'base64');
    bytes[3] = bytes[3]! ^ 0x20;
    await db
      .updateTable('secrets')
      .set({ ciphertext: bytes.toString('base64') })
      .where('id', '=', qa!.id)
      .execute();
    await expect(server.gantry.secrets.secretsFor(app, 'qa', ['API_TOKEN'])).rejects.toThrow(
      'secret API_TOKEN of shop/qa does not decrypt',
    );
    await db.updateTable('secrets').set({ key_id: 'k0000000000000000' }).where('id', '=', qa!.id).execute();
    await expect(server.gantry.secrets.secretsFor(app, 'qa', ['API_TOKEN'])).rejects.toThrow(
      'secret API_TOKEN of shop/qa was sealed with key k0000000000000000, which this server does not have',
    );
  });

  it('rotates the key: every value sealed again, the old key retired, values unchanged; an interrupted rotation finishes', async () => {
    server = await startTestServer(engine);
    await createApp(server, yamlWithSteps(['true']));
    const values: Record<string, string> = {
      ONE_TOKEN: 'one-1234',
      TWO_TOKEN: 'two-1234',
      THREE_TOKEN: 'three-1234',
    };
    for (const [name, value] of Object.entries(values))
      await server.api('PUT', `/api/apps/shop/secrets/${name}`, { value });
    const keyFile = join(server.dataDir, 'secrets.key');
    const before = (await rows())[0]!.key_id;

    const rotated = await server.api<KeyRotation>('POST', '/api/secrets/rotate-key');
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ reencrypted: 3, retired: [before], resumed: false });
    expect(rotated.body.keyId).not.toBe(before);
    expect(new Set((await rows()).map((r) => r.key_id))).toEqual(new Set([rotated.body.keyId]));
    const ring = JSON.parse(await readFile(keyFile, 'utf8')) as { current: string; keys: { id: string }[] };
    expect(ring.keys.map((k) => k.id)).toEqual([rotated.body.keyId]);
    const app = await server.gantry.apps.get('shop');
    expect(await server.gantry.secrets.secretsFor(app, 'qa', Object.keys(values))).toEqual(values);

    // Interrupted halfway: the new key is in the file beside the old, one value already under it.
    const other = await SecretKeys.load({ dataDir: server.dataDir, keyFile });
    const half = await other.beginRotation();
    await server.api('PUT', '/api/apps/shop/secrets/FOUR_TOKEN', { value: 'four-1234' });
    expect((await rows()).filter((r) => r.key_id === half.current).map((r) => r.name)).toEqual([
      'FOUR_TOKEN',
    ]);
    const resumed = await server.api<KeyRotation>('POST', '/api/secrets/rotate-key');
    expect(resumed.body).toEqual({
      keyId: half.current,
      retired: [rotated.body.keyId],
      reencrypted: 3,
      resumed: true,
    });
    expect(new Set((await rows()).map((r) => r.key_id))).toEqual(new Set([half.current]));
    expect(await server.gantry.secrets.secretsFor(app, null, [...Object.keys(values), 'FOUR_TOKEN'])).toEqual(
      {
        ...values,
        FOUR_TOKEN: 'four-1234',
      },
    );
    const events = (await server.api<GantryEvent[]>('GET', '/api/events?type=secret.key_rotated')).body;
    expect(events.map((e) => e.data.resumed)).toEqual([false, true]);
  });

  it('cannot rotate a key given in GANTRY_SECRETS_KEY: 409 with what to do', async () => {
    const key = randomBytes(32).toString('base64');
    server = await startTestServer(engine, { secretsKey: key });
    await createApp(server, yamlWithSteps(['true']));
    await server.api('PUT', '/api/apps/shop/secrets/API_TOKEN', { value: 'from-env-key' });
    const res = await server.api<{ message: string }>('POST', '/api/secrets/rotate-key');
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('GANTRY_SECRETS_KEY_FILE=<that file>');
    const app = await server.gantry.apps.get('shop');
    expect(await server.gantry.secrets.secretsFor(app, null, ['API_TOKEN'])).toEqual({
      API_TOKEN: 'from-env-key',
    });
  });
});
