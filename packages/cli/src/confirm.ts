import { createInterface } from 'node:readline/promises';
import { CliError } from './context.js';

/**
 * Asks `question [y/N]` on a terminal; without one, refuses with `hint` (how to skip the prompt,
 * e.g. pass --yes), so scripts never hang on a prompt nobody sees.
 */
export async function confirmOnTerminal(question: string, opts: { hint: string; declined: string }) {
  if (!process.stdin.isTTY) throw new CliError(opts.hint);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliError(opts.declined);
}
