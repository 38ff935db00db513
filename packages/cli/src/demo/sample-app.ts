export interface DemoPorts {
  qa: number;
  staging: number;
  production: number;
}

export const DEMO_ENVIRONMENTS = ['qa', 'staging', 'production'] as const;

/** The health timeout of the sample app: how long QA waits for the broken commit before it gives up. */
export const DEMO_HEALTH_TIMEOUT_S = 5;

export function sampleVersion(version: number): string {
  return `1.0.${version}`;
}

/**
 * The files of the demo's sample app: a small Node HTTP service with /healthz and a test, deployed
 * to qa → staging → production. The `broken` variant passes its test but answers 500 on /healthz
 * once deployed: it reads greeting.txt, which the package step never copies into the artifact. The
 * `rude` variant is healthy but says bye instead of hello, which QA's check catches.
 * With `image`, the artifact is an OCI image (dist copied into `image.base`) run by the container driver.
 */
export function sampleAppFiles(
  version: number,
  ports: DemoPorts,
  opts: { broken?: boolean; rude?: boolean; image?: { base: string } } = {},
): Record<string, string> {
  const image = opts.image ? `\n  image: { base: ${JSON.stringify(opts.image.base)} }` : '';
  const driver = opts.image ? 'driver: container, ' : '';
  const files: Record<string, string> = {
    'gantry.yaml': `app: hello
build:
  steps:
    - { name: test, run: "node --test" }
    - { name: package, run: "mkdir -p dist && cp server.js package.json dist/" }
  artifact: { path: dist }${image}
  timeout: 2m
run:
  command: node server.js
  port_env: PORT
  health: { path: /healthz, timeout: ${DEMO_HEALTH_TIMEOUT_S}s }
environments:
  qa:${opts.image ? '\n    driver: container' : ''}
    auto_deploy: true
    port: ${ports.qa}
    checks: [{ name: home, http: { path: /, expect_body: hello } }]
  staging: { ${driver}promote_from: qa, port: ${ports.staging} }
  production: { ${driver}promote_from: staging, protected: true, port: ${ports.production} }
revert: { on_check_failure: auto }
`,
    'package.json': `${JSON.stringify({ name: 'hello', version: sampleVersion(version), type: 'module', private: true }, null, 2)}\n`,
    'server.js': opts.broken ? brokenServer(version) : server(version, opts.rude ? 'bye' : 'hello'),
    'server.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler } from './server.js';

test('healthz answers ok', () => {
  const res = { statusCode: 200, end(body) { this.body = body; } };
  handler({ url: '/healthz' }, res);
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, 'ok');
});
`,
  };
  if (opts.broken) files['greeting.txt'] = 'hello\n';
  return files;
}

const LISTEN = `
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  createServer(handler).listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
}
`;

function server(version: number, word = 'hello'): string {
  return `import { createServer } from 'node:http';

export function handler(req, res) {
  if (req.url === '/healthz') return res.end('ok');
  res.end('${word} from version ${sampleVersion(version)} (' + (process.env.GANTRY_ENV ?? 'dev') + ')\\n');
}
${LISTEN}`;
}

function brokenServer(version: number): string {
  return `import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const file = new URL('./greeting.txt', import.meta.url);
const greeting = existsSync(file) ? readFileSync(file, 'utf8').trim() : null;

export function handler(req, res) {
  if (req.url === '/healthz') {
    if (greeting === null) {
      res.statusCode = 500;
      return res.end('greeting.txt is missing');
    }
    return res.end('ok');
  }
  res.end(greeting + ' from version ${sampleVersion(version)} (' + (process.env.GANTRY_ENV ?? 'dev') + ')\\n');
}
${LISTEN}`;
}
