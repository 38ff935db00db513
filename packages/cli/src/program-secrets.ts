import { readFile } from 'node:fs/promises';
import type { KeyRotation, Secret } from '@gantry/contracts';
import type { Command } from 'commander';
import { CliError, client, pickApp, qs } from './context.js';
import { ago, printJson, table } from './output.js';
import { promptHidden, readStdin } from './terminal-input.js';

interface SetOptions {
  app?: string;
  env?: string;
  value?: string;
  fromFile?: string;
  json?: boolean;
}

const secretPath = (app: string, name: string) =>
  `/api/apps/${encodeURIComponent(app)}/secrets/${encodeURIComponent(name)}`;

/** One trailing line break is the file's or the pipe's, not the value's (`echo`, editors). */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** `--value`, `--from-file`, or stdin (piped, or typed without echo at a terminal). */
async function readValue(name: string, opts: SetOptions): Promise<string> {
  if (opts.value !== undefined && opts.fromFile !== undefined)
    throw new CliError('give --value or --from-file, not both (or neither, and pipe the value in)');
  if (opts.value !== undefined) return opts.value;
  if (opts.fromFile !== undefined)
    return withoutFinalNewline(
      await readFile(opts.fromFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new CliError(`--from-file ${opts.fromFile}: cannot read it (${e.code ?? e.message})`);
      }),
    );
  if (process.stdin.isTTY) return promptHidden(`value of ${name} (not shown): `);
  return withoutFinalNewline(await readStdin());
}

function where(app: string, env: string | null | undefined): string {
  return env ? `${app}/${env}` : `${app} (app-wide)`;
}

async function secretsSet(name: string, opts: SetOptions): Promise<void> {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const value = await readValue(name, opts);
  if (value === '')
    throw new CliError(
      `no value for ${name}: give --value, --from-file <path>, or pipe it in (printf %s "$VALUE" | gantry secrets set ${name})`,
    );
  const res = await api.put<{ secret: Secret; created: boolean }>(secretPath(app, name), {
    value,
    ...(opts.env ? { env: opts.env } : {}),
  });
  if (opts.json) return printJson(res);
  process.stdout.write(
    `${res.created ? 'set' : 'updated'} ${name} for ${where(app, res.secret.env)}; it reaches a build or release only where gantry.yaml lists it (build.secrets, environments.<env>.secrets)\n`,
  );
}

async function secretsList(opts: { app?: string; json?: boolean }): Promise<void> {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const secrets = await api.get<Secret[]>(`/api/apps/${encodeURIComponent(app)}/secrets`);
  if (opts.json) return printJson(secrets);
  table(
    secrets.map((s) => ({
      name: s.name,
      env: s.env ?? '(all)',
      updated: `${s.updatedAt} (${ago(s.updatedAt)})`,
      by: s.updatedBy,
    })),
    ['name', 'env', 'updated', 'by'],
  );
}

async function secretsRemove(name: string, opts: { app?: string; env?: string; json?: boolean }) {
  const api = await client();
  const app = await pickApp(api, opts.app);
  const res = await api.delete<{ removed: true }>(`${secretPath(app, name)}${qs({ env: opts.env })}`);
  if (opts.json) return printJson(res);
  process.stdout.write(`removed ${name} of ${where(app, opts.env)}\n`);
}

async function secretsRotateKey(opts: { json?: boolean }): Promise<void> {
  const api = await client();
  const res = await api.post<KeyRotation>('/api/secrets/rotate-key');
  if (opts.json) return printJson(res);
  const retired = res.retired.length ? `; retired ${res.retired.join(', ')}` : '';
  process.stdout.write(
    `${res.resumed ? 'finished the interrupted rotation: ' : ''}every secret is sealed with key ${res.keyId} (${res.reencrypted} re-encrypted${retired})\n`,
  );
}

/** `gantry secrets …`: an app's secrets, write-only; values go in and never come back out. */
export function registerSecretCommands(program: Command): void {
  const secrets = program
    .command('secrets')
    .description(
      "an app's secrets: encrypted on the server, never shown again, given to builds and releases that declare them",
    );
  secrets
    .command('set <name>')
    .description(
      'set a secret (an environment variable name) from --value, --from-file, or stdin (typed without echo at a terminal)',
    )
    .option('--app <name>', 'the app (default: the only one)')
    .option('--env <env>', 'only for this environment (overrides the app-wide value); default: app-wide')
    .option('--value <value>', 'the value (visible in `ps` and shell history: prefer --from-file or stdin)')
    .option('--from-file <path>', 'read the value from a file (one final newline is dropped)')
    .option('--json', 'print JSON')
    .action(secretsSet);
  secrets
    .command('list')
    .description("the app's secrets: names, environments, when and by whom set; never values")
    .option('--app <name>', 'the app (default: the only one)')
    .option('--json', 'print JSON')
    .action(secretsList);
  secrets
    .command('rm <name>')
    .alias('remove')
    .description("remove a secret (app-wide, or with --env that environment's own value)")
    .option('--app <name>', 'the app (default: the only one)')
    .option('--env <env>', "the environment's own value (default: the app-wide one)")
    .option('--json', 'print JSON')
    .action(secretsRemove);
  secrets
    .command('rotate-key')
    .description(
      'seal every secret with a new key and retire the old one (run again to finish an interrupted rotation)',
    )
    .option('--json', 'print JSON')
    .action(secretsRotateKey);
}
