import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ApiClient } from '../api-client.js';
import { userConfigPath } from '../cli-config.js';

export async function loginCommand(url: string, token: string): Promise<void> {
  const api = new ApiClient({ url: url.replace(/\/$/, ''), token, source: 'login' });
  await api.get('/api/apps');
  const file = userConfigPath();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify({ url, token }, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  process.stdout.write(`Logged in to ${url}; saved to ${file}\n`);
}
