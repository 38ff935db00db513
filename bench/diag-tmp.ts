import { createHookedApp, isFinished, Scope, startBenchServer } from './support.js';
const scope = new Scope();
try {
  const bench = await startBenchServer(scope);
  const app = await createHookedApp(scope, bench, 'diag');
  const db = bench.server.gantry.database.db;
  for (let i = 0; i < 8; i++) {
    const t0 = Date.now();
    const push = await app.push();
    const b = await app.waitForBuild(push.sha, isFinished, 20);
    const evs = await db.selectFrom('events').select(['type', 'created_at']).where('id', '>', 0).orderBy('id').execute();
    const rel = (iso: string | null) => (iso ? Date.parse(iso) - t0 : null);
    const recent = evs.filter((e) => Date.parse(e.created_at) >= t0).map((e) => `${e.type}@${rel(e.created_at)}`);
    const full = await bench.api<{ steps: { startedAt: string; finishedAt: string }[] }>('GET', `/api/builds/${b.id}`);
    console.log(`push ${push.returnedAt - t0} queued ${rel(b.queuedAt)} started ${rel(b.startedAt)} step ${rel(full.steps[0]!.startedAt)}-${rel(full.steps[0]!.finishedAt)} finished ${rel(b.finishedAt)}`);
    console.log('  ', recent.join(' '));
    await new Promise((r) => setTimeout(r, 300));
  }
} finally {
  await scope.close();
}
