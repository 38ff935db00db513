import { isAbsolute } from 'node:path';
import type { AppRegistry } from '@gantry/contracts';
import { parseRegistryAddress } from '../../containers/registry.js';
import { InvalidInput } from '../../errors.js';

export interface AppRegistryInput {
  url: string;
  insecure?: boolean;
  username?: string | null;
  passwordEnv?: string | null;
  passwordFile?: string | null;
}

/**
 * Checks an app's registry as an admin sets it: an address Gantry can parse, and the password named
 * by one environment variable of the server or one absolute file path, never given as a value.
 */
export function checkAppRegistry(input: AppRegistryInput): AppRegistry {
  try {
    parseRegistryAddress(input.url);
  } catch (e) {
    throw new InvalidInput(`url: ${(e as Error).message}`);
  }
  const username = input.username?.trim() || null;
  const passwordEnv = input.passwordEnv?.trim() || null;
  const passwordFile = input.passwordFile?.trim() || null;
  if (username && /[\s:]/.test(username))
    throw new InvalidInput(`username ${JSON.stringify(username)} may not hold spaces or ":"`);
  if (passwordEnv && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv))
    throw new InvalidInput(
      `passwordEnv ${JSON.stringify(passwordEnv)} is not an environment variable name, e.g. SHOP_REGISTRY_PASSWORD`,
    );
  if (passwordFile && !isAbsolute(passwordFile))
    throw new InvalidInput(`passwordFile ${JSON.stringify(passwordFile)}: expected an absolute path`);
  if (passwordEnv && passwordFile)
    throw new InvalidInput('give the password by passwordEnv or by passwordFile, not both');
  if ((passwordEnv || passwordFile) && !username)
    throw new InvalidInput('a registry password needs a username; add it');
  return { url: input.url.trim(), insecure: Boolean(input.insecure), username, passwordEnv, passwordFile };
}

export function parseStoredRegistry(json: string | null): AppRegistry | null {
  if (!json) return null;
  return JSON.parse(json) as AppRegistry;
}
