import { client } from '../context.js';
import { printJson } from '../output.js';

export async function tokenCreate(
  name: string,
  opts: { role?: string; app?: string; json?: boolean },
): Promise<void> {
  const res = await (await client()).post<{ id: string; token: string }>('/api/tokens', {
    name,
    role: opts.role ?? 'admin',
    ...(opts.app === undefined ? {} : { app: opts.app }),
  });
  if (opts.json) return printJson(res);
  process.stdout.write(`${res.token}\n`);
  process.stderr.write(`token ${res.id} (${opts.role ?? 'admin'}) created; it is shown only now\n`);
}
