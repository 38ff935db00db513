import { formatConfigIssue, parseGantryYaml } from '@gantry/contracts';
import { describe, expect, it } from 'vitest';

const issues = (text: string) => parseGantryYaml(text, 'gantry.yaml').errors.map(formatConfigIssue);

describe('secrets in gantry.yaml', () => {
  it('takes build.secrets and environments.<env>.secrets as lists of names', () => {
    const { config, errors } = parseGantryYaml(`build:
  steps: [{ name: test, run: npm test }]
  secrets: [NPM_TOKEN]
  artifact: { path: dist }
environments:
  qa: { secrets: [DATABASE_URL, api_key] }
  production: {}
`);
    expect(errors).toEqual([]);
    expect(config?.build.secrets).toEqual(['NPM_TOKEN']);
    expect(config?.environments.qa?.secrets).toEqual(['DATABASE_URL', 'api_key']);
    expect(config?.environments.production?.secrets).toBeUndefined();
  });

  it('says at which line and column a name is wrong, reserved, listed twice or clashes with another variable', () => {
    expect(
      issues(`build:
  steps: [{ name: test, run: npm test }]
  env: { NPM_TOKEN: x }
  secrets: [NPM_TOKEN, GANTRY_TOKEN]
  artifact: { path: dist }
run: { command: node server.js, port_env: APP_PORT }
environments:
  qa:
    config: { DATABASE_URL: local }
    secrets: [DATABASE_URL, 2FA_KEY, APP_PORT, PATH, KEY, KEY]
`),
    ).toEqual([
      'gantry.yaml:4:13: build.secrets[0]: NPM_TOKEN is both in build.env and build.secrets; keep one',
      'gantry.yaml:4:24: build.secrets[1]: GANTRY_TOKEN is reserved: Gantry sets GANTRY_* itself',
      'gantry.yaml:10:15: environments.qa.secrets[0]: DATABASE_URL is both in environments.qa.config and its secrets; keep one',
      'gantry.yaml:10:29: environments.qa.secrets[1]: "2FA_KEY" is not a valid secret name: secrets become environment variables, so use letters, digits and _, not starting with a digit (e.g. DATABASE_URL)',
      "gantry.yaml:10:38: environments.qa.secrets[2]: APP_PORT is run.port_env: the driver sets it to the release's port",
      'gantry.yaml:10:48: environments.qa.secrets[3]: PATH is reserved: the sandbox sets it',
      'gantry.yaml:10:59: environments.qa.secrets[5]: KEY is listed twice; list each secret once',
    ]);
  });
});
