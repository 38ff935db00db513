import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvironmentSpec } from '@gantry/driver-api';
import type { ConformanceFixture } from '@gantry/driver-api/conformance';
import { createCommandDriver } from '../../../src/drivers/command/command-driver.js';
import { makeSampleArtifact, servingVersion, shaOf } from '../../support/driver-fixtures.js';
import { freePort } from '../../support/server-process.js';

// `kill -0` succeeds on a zombie, and a container's init may never reap one.
const ALIVE = `alive() { s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; case "$s" in Z*) return 1;; esac; }`;

const STOP_SH = `#!/bin/sh
${ALIVE}
pidfile="$GANTRY_WORKDIR/app.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
kill "$pid" 2>/dev/null
i=0
while alive "$pid" && [ "$i" -lt 100 ]; do
  i=$((i + 1))
  [ "$i" -eq 50 ] && kill -9 "$pid" 2>/dev/null
  sleep 0.1
done
rm -f "$pidfile" "$GANTRY_WORKDIR/serving.sha"
echo "stopped pid $pid"
`;

const deploySh = (stopScript: string) => `#!/bin/sh
set -eu
dest="$GANTRY_WORKDIR/releases/$GANTRY_SHA"
'${stopScript}'
rm -rf "$dest"
mkdir -p "$dest"
tar -xzf "$GANTRY_ARTIFACT" -C "$dest"
cd "$dest"
PORT="$GANTRY_PORT" nohup node server.js >> "$GANTRY_WORKDIR/app.log" 2>&1 < /dev/null &
echo $! > "$GANTRY_WORKDIR/app.pid"
echo "$GANTRY_SHA" > "$GANTRY_WORKDIR/serving.sha"
echo "started $GANTRY_SHA as pid $!"
`;

const HEALTH_SH = `#!/bin/sh
set -e
curl -fsS --max-time 2 "http://127.0.0.1:$GANTRY_PORT/healthz"
echo
cat "$GANTRY_WORKDIR/serving.sha"
`;

/**
 * The command driver with scripts that really deploy the sample app: unpack, stop the previous
 * app by its pid file, start `node server.js` on $GANTRY_PORT, and curl /healthz.
 */
export function commandFixture(): ConformanceFixture {
  const dirs: string[] = [];
  const workdirs: string[] = [];
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  let releases = 0;

  return {
    createDriver: () => createCommandDriver({ pollIntervalMs: 100 }),
    async makeEnv(workdir): Promise<EnvironmentSpec> {
      workdirs.push(workdir);
      const scripts = await tempDir('gantry-command-scripts-');
      const path = (name: string) => join(scripts, name);
      await writeScript(path('stop.sh'), STOP_SH);
      await writeScript(path('deploy.sh'), deploySh(path('stop.sh')));
      await writeScript(path('health.sh'), HEALTH_SH);
      return {
        app: 'sample',
        name: 'qa',
        port: await freePort(),
        config: { GREETING: 'hello' },
        standby: 1,
        run: { command: 'node server.js', portEnv: 'PORT', health: { path: '/healthz', timeoutMs: 3_000 } },
        commands: {
          deploy: `'${path('deploy.sh')}'`,
          health: `'${path('health.sh')}'`,
          stop: `'${path('stop.sh')}'`,
        },
      };
    },
    async makeRelease(env, version, opts) {
      const artifact = await makeSampleArtifact(await tempDir('gantry-command-artifacts-'), version, opts);
      releases += 1;
      return { env, sha: shaOf(version), deploymentId: `dep_${releases}_${version}`, artifact };
    },
    serving: (env) => servingVersion(env.port),
    async cleanup() {
      for (const workdir of workdirs.splice(0)) await killPidFile(join(workdir, 'app.pid'));
      await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

async function writeScript(file: string, body: string): Promise<void> {
  await writeFile(file, body);
  await chmod(file, 0o755);
}

export async function killPidFile(file: string): Promise<void> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
