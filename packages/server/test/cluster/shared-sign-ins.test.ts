import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { PENDING_TTL_MS, PendingLogins } from '../../src/features/oidc/pending-logins.js';
import { SignInLimiter } from '../../src/features/users/sign-in-limiter.js';
import { engines } from '../support/engines.js';
import { cleanupAll } from '../support/git-fixtures.js';
import { openTestDatabase } from '../support/test-database.js';
import { startTestServer } from '../support/test-server.js';

afterAll(cleanupAll);

/**
 * Failed sign-ins and pending single sign-ons live in the database, so two servers on it (two
 * objects on one database here; real servers in multi-server.test.ts) honour the same ones.
 */
describe.each(engines)('sign-in state shared through the database on $name', (engine) => {
  let database: Database & { reopen(): Promise<Database> };
  let second: Database;

  beforeAll(async () => {
    database = await openTestDatabase(engine);
    second = await database.reopen();
  });
  afterAll(async () => {
    await second?.close();
    await database?.close();
  });

  it('counts failures per account and per address across servers, in a sliding window', async () => {
    let now = 1_000_000;
    const opts = { perAccount: 3, perAddress: 5, windowMs: 60_000 };
    const one = new SignInLimiter(database.db, opts, () => now);
    const two = new SignInLimiter(second.db, opts, () => now);
    expect(await one.retryAfterMs('Dana', '10.0.0.1')).toBe(0);
    await one.failed('dana', '10.0.0.1');
    now += 1_000;
    await two.failed('DANA', '10.0.0.2');
    now += 1_000;
    expect(await two.retryAfterMs('dana', '10.0.0.3')).toBe(0);
    await one.failed('dana', '10.0.0.3');
    // The third failure (one on each address) locks the account until the first leaves the window.
    expect(await two.retryAfterMs('dana', '10.0.0.9')).toBe(58_000);
    expect(await one.retryAfterMs('erin', '10.0.0.1')).toBe(0);
    now += 58_000;
    expect(await two.retryAfterMs('dana', '10.0.0.9')).toBe(0);

    // Five failures from one address on five accounts lock the address, not the accounts elsewhere.
    for (const login of ['f1', 'f2', 'f3', 'f4', 'f5'])
      await (login < 'f3' ? one : two).failed(login, '10.9.9.9');
    expect(await one.retryAfterMs('someone', '10.9.9.9')).toBe(60_000);
    expect(await one.retryAfterMs('f1', '10.0.0.1')).toBe(0);

    // A success clears the account's failures on every server.
    for (let i = 0; i < 3; i++) await one.failed('gus', `10.1.0.${i}`);
    expect(await two.retryAfterMs('gus', '10.2.0.1')).toBeGreaterThan(0);
    await two.succeeded('GUS');
    expect(await one.retryAfterMs('gus', '10.2.0.1')).toBe(0);
  });

  it('gives a pending sign-in once, on any server, and not after it expired', async () => {
    const one = new PendingLogins(database.db);
    const two = new PendingLogins(second.db);
    const login = { state: 's1', nonce: 'n', codeVerifier: 'v', redirectUri: 'http://x/cb' };
    await one.add(login, 1_000);
    expect(await two.take('s1', 2_000)).toEqual(login);
    expect(await one.take('s1', 2_000)).toBeUndefined();
    await one.add({ ...login, state: 's2' }, 1_000);
    expect(await two.take('s2', 1_000 + PENDING_TTL_MS)).toBeUndefined();
    expect(await one.take('unknown')).toBeUndefined();
    // Old ones are swept as new ones come.
    await one.add({ ...login, state: 's3' }, 1_000);
    await two.add({ ...login, state: 's4' }, 2_000 + PENDING_TTL_MS);
    expect(await one.size()).toBe(1);
  });

  it('two servers racing for one state: exactly one gets it', async () => {
    const login = { state: 'race', nonce: 'n', codeVerifier: 'v', redirectUri: 'http://x/cb' };
    await new PendingLogins(database.db).add(login);
    const got = await Promise.all(
      [database, second, database, second].map((d) => new PendingLogins(d.db).take('race')),
    );
    expect(got.filter(Boolean)).toEqual([login]);
  });
});

describe('one server on SQLite', () => {
  it('has no cluster, and still limits sign-ins', async () => {
    const server = await startTestServer({ name: 'sqlite' });
    try {
      expect(server.gantry.cluster).toBeUndefined();
      await server.api('POST', '/api/users', { login: 'hal', password: 'hals long password' });
      const signIn = (password: string) =>
        fetch(`${server.url}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: 'hal', password }),
        });
      for (let i = 0; i < 5; i++) expect((await signIn('wrong')).status).toBe(401);
      expect((await signIn('hals long password')).status).toBe(429);
    } finally {
      await server.close();
    }
  });
});
