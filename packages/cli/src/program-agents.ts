import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError, client } from './context.js';
import { ago, printJson, table } from './output.js';
import { loadServer } from './server-module.js';

interface AgentInfo {
  id: string;
  name: string;
  labels: string[];
  createdAt: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
  connected: boolean;
  hosts: { host: string }[];
}

function labelsOf(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** `gantry agents …` (admin: agent tokens) and `gantry agent` (the build agent itself; docs/agents.md). */
export function registerAgentCommands(program: Command): void {
  const agents = program.command('agents').description('remote build agents: their tokens and labels');
  agents
    .command('list')
    .description('agent tokens, their labels and when each agent last asked for work')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await (await client()).get<AgentInfo[]>('/api/agents');
      if (opts.json) return printJson(list);
      table(
        list.map((a) => ({
          id: a.id,
          name: a.name,
          labels: a.labels.join(','),
          hosts: a.hosts.map((h) => h.host).join(',') || '-',
          seen: a.lastSeenAt ? ago(a.lastSeenAt) : 'never',
          state: a.revokedAt ? 'revoked' : a.connected ? 'connected' : 'idle',
        })),
        ['id', 'name', 'labels', 'hosts', 'seen', 'state'],
      );
    });
  const token = agents.command('token').description('create and revoke agent tokens');
  token
    .command('create')
    .description('create an agent token with its labels (printed once; stored hashed)')
    .requiredOption('--labels <list>', 'labels the agent may claim builds with, e.g. linux,big')
    .option('--name <name>', 'a name for the token (default agent-<labels>)')
    .option('--json', 'print JSON')
    .action(async (opts: { labels: string; name?: string; json?: boolean }) => {
      const labels = labelsOf(opts.labels);
      if (!labels.length) throw new CliError('--labels: list at least one label, e.g. --labels linux');
      const res = await (await client()).post<{ id: string; name: string; labels: string[]; token: string }>(
        '/api/agents/tokens',
        { labels, ...(opts.name && { name: opts.name }) },
      );
      if (opts.json) return printJson(res);
      process.stdout.write(`${res.token}\n`);
      process.stderr.write(
        `agent token ${res.id} (${res.labels.join(',')}) created; it is shown only now. Run \`gantry agent --server <url> --token <it> --labels ${res.labels.join(',')}\` on the build machine.\n`,
      );
    });
  token
    .command('revoke <id>')
    .description('revoke an agent token: its agent is refused from now on')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await (await client()).delete(`/api/agents/tokens/${encodeURIComponent(id)}`);
      if (opts.json) return printJson({ id, revoked: true });
      process.stderr.write(`agent token ${id} revoked\n`);
    });

  program
    .command('agent')
    .description(
      'run an agent: build what names its labels in build.runs_on, and run the environments whose hosts name them',
    )
    .requiredOption('--server <url>', 'the Gantry server, e.g. https://gantry.example.com')
    .option('--token <token>', 'the agent token (GANTRY_AGENT_TOKEN; `gantry agents token create`)')
    .option('--labels <list>', "the labels to claim with (default: all the token's)")
    .option('--work-dir <dir>', 'where builds run (default a folder in the temporary dir)')
    .option('--sandbox <mode>', 'auto | bwrap | off: run the steps in bubblewrap (default auto)', 'auto')
    .option('--listen <address>', "the address environments' proxies listen on here (default 127.0.0.1)")
    .option('--address <host>', 'how others reach this machine, for the URLs it reports (default: --listen)')
    .option('--json', 'print JSON lines of what the agent does')
    .action(
      async (opts: {
        server: string;
        token?: string;
        labels?: string;
        workDir?: string;
        sandbox: string;
        listen?: string;
        address?: string;
        json?: boolean;
      }) => {
        const token = opts.token ?? process.env.GANTRY_AGENT_TOKEN;
        if (!token) throw new CliError('--token: give the agent token (or set GANTRY_AGENT_TOKEN)');
        if (!['auto', 'bwrap', 'off'].includes(opts.sandbox))
          throw new CliError(`--sandbox ${opts.sandbox}: expected auto, bwrap or off`);
        const { runAgent, AgentRefused } = await loadServer();
        const ac = new AbortController();
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => ac.abort());
        try {
          await runAgent({
            server: opts.server,
            token,
            labels: labelsOf(opts.labels),
            workDir: opts.workDir ?? join(tmpdir(), `gantry-agent-${process.getuid?.() ?? 'user'}`),
            sandbox: opts.sandbox as 'auto' | 'bwrap' | 'off',
            ...(opts.listen && { listen: opts.listen }),
            ...(opts.address && { address: opts.address }),
            signal: ac.signal,
            say: opts.json
              ? (line) => process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), line })}\n`)
              : undefined,
          });
        } catch (e) {
          if (e instanceof AgentRefused) throw new CliError(e.message);
          throw e;
        }
      },
    );
}
