import type { RetentionItem, RetentionReport } from '@gantry/contracts';
import { CliError, client } from '../context.js';
import { bytes, plural, printJson, safeLine, short } from '../output.js';
import { whereItIs } from './artifacts.js';

export interface GcOptions {
  dryRun?: boolean;
  json?: boolean;
  keep?: string;
  maxAge?: string;
  /** List every kept artifact with its reasons (a dry run always does). */
  verbose?: boolean;
}

/**
 * `gantry gc`: the server's artifact retention policy, now. Collected artifacts are listed with why;
 * a dry run also lists every kept one and why it stays.
 */
export async function gcCommand(opts: GcOptions): Promise<void> {
  let keepPerApp: number | undefined;
  if (opts.keep !== undefined) {
    keepPerApp = Number(opts.keep);
    if (!Number.isInteger(keepPerApp) || keepPerApp < 0)
      throw new CliError(`--keep ${opts.keep}: expected a whole number ≥ 0`);
  }
  const report = await (await client()).post<RetentionReport>('/api/retention/run', {
    dryRun: Boolean(opts.dryRun),
    ...(keepPerApp !== undefined && { keepPerApp }),
    ...(opts.maxAge !== undefined && { maxAge: opts.maxAge }),
  });
  if (opts.json) return printJson(report);
  const out = process.stdout;
  const p = report.policy;
  out.write(
    `policy: the ${p.keepPerApp} newest artifacts of each app and any younger than ${p.maxAge}, ` +
      'besides what an environment runs, keeps warm or would roll back to and what a deployment waits for\n',
  );
  const verb = report.dryRun ? 'would collect' : 'collected';
  for (const c of report.collected)
    out.write(`${verb} ${line(c)}${storage(c)}\n    ${c.reasons.map(safeLine).join('; ')}\n`);
  for (const f of report.failed)
    out.write(`could not collect ${line({ artifact: f.artifact, reasons: [] })}: ${safeLine(f.error)}\n`);
  if (report.dryRun || opts.verbose)
    for (const k of report.kept) out.write(`keep ${line(k)}\n    ${k.reasons.map(safeLine).join('; ')}\n`);
  const size = report.collected.reduce((n, c) => n + c.artifact.size, 0);
  out.write(
    report.dryRun
      ? `dry run: ${plural(report.collected.length, 'artifact')} (${bytes(size)}) would be collected, ${report.kept.length} kept; run \`gantry gc\` to collect them\n`
      : `${plural(report.collected.length, 'artifact')} collected, ${bytes(report.freedBytes)} freed, ${report.kept.length} kept` +
          (report.failed.length
            ? `, ${report.failed.length} could not be deleted (the next pass tries again)`
            : '') +
          '\n',
  );
  if (report.failed.length) process.exitCode = 1;
}

function line(i: RetentionItem): string {
  const a = i.artifact;
  return `${a.id} ${safeLine(a.app)} ${short(a.sha)} ${a.kind} ${bytes(a.size)} ${whereItIs(a)}`;
}

function storage(i: RetentionItem): string {
  switch (i.storage) {
    case 'shared':
      return ' (its bytes stay: another artifact has them)';
    case 'missing':
      return ' (its bytes were already gone)';
    case 'left_in_registry':
      return ' (the registry does not allow deletes: the image stays there)';
    default:
      return '';
  }
}
