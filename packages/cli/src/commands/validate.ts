import { readFile } from 'node:fs/promises';
import { formatConfigIssue, parseGantryYaml } from '@gantry/contracts';
import { CliError } from '../context.js';
import { printJson } from '../output.js';

export async function validateCommand(file: string | undefined, opts: { json?: boolean }): Promise<void> {
  const path = file ?? 'gantry.yaml';
  const text = await readFile(path, 'utf8').catch(() => {
    throw new CliError(
      `${path}: no such file; write a gantry.yaml at the root of your repository (see README)`,
    );
  });
  const result = parseGantryYaml(text, path);
  if (opts.json) {
    printJson(result);
  } else {
    for (const w of result.warnings) process.stderr.write(`warning: ${formatConfigIssue(w)}\n`);
    for (const e of result.errors) process.stderr.write(`${formatConfigIssue(e)}\n`);
  }
  if (result.errors.length) {
    throw new CliError(`${path} has ${result.errors.length} error${result.errors.length === 1 ? '' : 's'}`);
  }
  if (!opts.json) process.stdout.write(`${path} is valid\n`);
}
