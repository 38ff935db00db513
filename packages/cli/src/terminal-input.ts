import { CliError } from './context.js';

/** Everything piped into stdin, as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** stdin's text without the one line break `echo` or a heredoc puts after it. */
export async function readStdinLine(): Promise<string> {
  return (await readStdin()).replace(/\r?\n$/, '');
}

/** Reads one line typed at the terminal without showing it (Ctrl-C cancels, exit 130). */
export function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    // Echo goes off before the question shows, so nothing typed at once is ever shown.
    input.setRawMode(true);
    process.stderr.write(question);
    input.resume();
    input.setEncoding('utf8');
    const done = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', 130));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}

/**
 * A password: from stdin with `--password-stdin`, or typed twice without echo at a terminal (when
 * `confirm`); null when neither (no terminal and no --password-stdin).
 */
export async function readPassword(opts: {
  stdin?: boolean;
  question: string;
  confirm?: boolean;
}): Promise<string | null> {
  if (opts.stdin) {
    const password = await readStdinLine();
    if (password === '') throw new CliError('--password-stdin: stdin was empty; pipe the password in');
    return password;
  }
  if (!process.stdin.isTTY) return null;
  const password = await promptHidden(opts.question);
  if (opts.confirm && password !== '') {
    const again = await promptHidden('again, to be sure: ');
    if (again !== password) throw new CliError('the two passwords differ; nothing was changed');
  }
  return password;
}
