/** The files of the demo's sample app: a small Node HTTP service with /healthz and a test. */
export function sampleAppFiles(version: number): Record<string, string> {
  return {
    'gantry.yaml': `app: hello
build:
  steps:
    - { name: test, run: "node --test" }
    - { name: package, run: "mkdir -p dist && cp server.js package.json dist/" }
  artifact: { path: dist }
  timeout: 2m
run:
  command: node server.js
  port_env: PORT
  health: { path: /healthz, timeout: 10s }
`,
    'package.json': `${JSON.stringify({ name: 'hello', version: `1.0.${version}`, type: 'module', private: true }, null, 2)}\n`,
    'server.js': `import { createServer } from 'node:http';

export function handler(req, res) {
  if (req.url === '/healthz') return res.end('ok');
  if (req.url === '/version') return res.end(process.env.GANTRY_SHA ?? 'dev');
  res.end('hello from version ${version}\\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  createServer(handler).listen(Number(process.env.PORT ?? 3000));
}
`,
    'server.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler } from './server.js';

test('healthz answers ok', () => {
  let body = '';
  handler({ url: '/healthz' }, { end: (b) => { body = b; } });
  assert.equal(body, 'ok');
});
`,
  };
}
