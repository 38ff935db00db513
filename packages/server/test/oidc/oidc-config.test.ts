import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/server-config.js';
import { claimAt, groupsOf } from '../../src/features/oidc/oidc-client.js';

const load = (env: Record<string, string>) => loadServerConfig({ dataDir: '/tmp/x' }, env);

describe('GANTRY_OIDC_* settings', () => {
  it('is off without an issuer, and reads the issuer, client, secret, groups claim and scopes with defaults', () => {
    expect(load({}).config.oidc).toBeUndefined();
    const { config, errors } = load({
      GANTRY_OIDC_ISSUER: 'https://login.example.com/realms/main',
      GANTRY_OIDC_CLIENT_ID: 'gantry',
      GANTRY_OIDC_CLIENT_SECRET: 's3cret',
    });
    expect(errors).toEqual([]);
    expect(config.oidc).toEqual({
      issuer: 'https://login.example.com/realms/main',
      clientId: 'gantry',
      clientSecret: 's3cret',
      groupsClaim: 'groups',
      scopes: ['openid', 'profile', 'email'],
    });
    const custom = load({
      GANTRY_OIDC_ISSUER: 'http://localhost:8080',
      GANTRY_OIDC_CLIENT_ID: 'gantry',
      GANTRY_OIDC_CLIENT_SECRET_FILE: '/run/secrets/oidc',
      GANTRY_OIDC_GROUPS_CLAIM: 'realm_access.roles',
      GANTRY_OIDC_SCOPES: 'openid, profile groups',
    });
    expect(custom.errors).toEqual([]);
    expect(custom.config.oidc).toMatchObject({
      clientSecretFile: '/run/secrets/oidc',
      groupsClaim: 'realm_access.roles',
      scopes: ['openid', 'profile', 'groups'],
    });
  });

  it('says which variable is wrong and what it expects', () => {
    const errs = (env: Record<string, string>) => load(env).errors.join('\n');
    expect(errs({ GANTRY_OIDC_CLIENT_ID: 'gantry' })).toContain('GANTRY_OIDC_ISSUER is not');
    expect(errs({ GANTRY_OIDC_ISSUER: 'https://idp.example.com' })).toContain(
      'GANTRY_OIDC_CLIENT_ID is not: set the client id',
    );
    expect(errs({ GANTRY_OIDC_ISSUER: 'http://idp.example.com', GANTRY_OIDC_CLIENT_ID: 'g' })).toContain(
      'expected https://',
    );
    expect(errs({ GANTRY_OIDC_ISSUER: 'not a url', GANTRY_OIDC_CLIENT_ID: 'g' })).toContain('expected a URL');
    expect(
      errs({
        GANTRY_OIDC_ISSUER: 'https://idp.example.com',
        GANTRY_OIDC_CLIENT_ID: 'g',
        GANTRY_OIDC_CLIENT_SECRET: 'a',
        GANTRY_OIDC_CLIENT_SECRET_FILE: '/a',
      }),
    ).toContain('both set: keep one');
    expect(
      errs({
        GANTRY_OIDC_ISSUER: 'https://idp.example.com',
        GANTRY_OIDC_CLIENT_ID: 'g',
        GANTRY_OIDC_CLIENT_SECRET_FILE: 'secret.txt',
      }),
    ).toContain('expected an absolute path');
    expect(
      errs({
        GANTRY_OIDC_ISSUER: 'https://idp.example.com',
        GANTRY_OIDC_CLIENT_ID: 'g',
        GANTRY_OIDC_SCOPES: 'profile',
      }),
    ).toContain('must include openid');
  });
});

describe('claims', () => {
  it('reads the groups claim by name or by a dotted path, as a list of names', () => {
    expect(groupsOf(claimAt({ groups: ['ops', 'ops', ' dev ', 3, ''] }, 'groups'))).toEqual(['ops', 'dev']);
    expect(groupsOf(claimAt({ realm_access: { roles: ['admin'] } }, 'realm_access.roles'))).toEqual([
      'admin',
    ]);
    expect(groupsOf(claimAt({ 'https://example.com/groups': 'ops' }, 'https://example.com/groups'))).toEqual([
      'ops',
    ]);
    expect(groupsOf(claimAt({}, 'groups'))).toEqual([]);
  });
});
