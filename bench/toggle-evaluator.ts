import { pathToFileURL } from 'node:url';
import { type Context, InMemStorageProvider, Unleash } from 'unleash-client';
import { ToggleEvaluator } from '../packages/server/src/features/toggles/evaluator/toggle-evaluator.js';
import type { ToggleContext } from '../packages/server/src/features/toggles/evaluator/toggle-types.js';
import { loadClientSpecs } from '../packages/server/test/toggles/evaluator/client-spec-cases.js';
import { createSdkClient } from '../packages/server/test/toggles/evaluator/unleash-sdk-client.js';

type SdkCore = ReturnType<typeof createSdkClient>;
type Case = {
  name: string;
  context: ToggleContext;
  /** The same object, typed for unleash-client, whose `currentTime` is a Date (strings work as well). */
  sdkContext: Context;
  expected: boolean;
  gantry: ToggleEvaluator;
  unleash: Unleash;
  core: SdkCore;
};
type IsEnabled = (c: Case) => boolean;

export interface EvaluatorBench {
  cases: number;
  rounds: number;
  /** Evaluations per second, best round, on the client specification's `tests` cases. */
  gantry: number;
  /** `Unleash#isEnabled` of unleash-client, bootstrapped offline (refreshInterval 0, disableMetrics). */
  unleashClient: number;
  /** unleash-client's internal `UnleashClient#isEnabled`, without the `Unleash` wrapper. */
  unleashClientCore: number;
  /** gantry / unleashClient. */
  ratio: number;
  ratioToCore: number;
  /**
   * Geometric mean over the specification files of the per-file ratio gantry / `Unleash#isEnabled`:
   * the overall ratio leans on the slowest cases (IP ranges), this one weighs every file alike.
   */
  geomeanRatioByFile: number;
  /** Cases whose result matched the specification's expectation, per engine. */
  correct: { gantry: number; unleashClient: number; unleashClientCore: number };
}

/** Evaluations per second of `fn` over all cases, looping for about `ms`. */
function measure(cases: Case[], fn: IsEnabled, ms: number): number {
  let evaluations = 0;
  let sink = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const c of cases) if (fn(c)) sink++;
    evaluations += cases.length;
    elapsed = performance.now() - started;
  }
  if (sink < 0) console.log(sink);
  return Math.round(evaluations / (elapsed / 1000));
}

async function startOffline(appName: string, state: ReturnType<typeof loadClientSpecs>[number]['state']) {
  const unleash = new Unleash({
    appName,
    url: 'http://127.0.0.1:9/api/',
    refreshInterval: 0,
    disableMetrics: true,
    skipInstanceCountWarning: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: { data: state.features as never, segments: (state.segments ?? []) as never },
  });
  unleash.on('error', () => {});
  unleash.on('warn', () => {});
  await new Promise<void>((resolve) => unleash.once('synchronized', () => resolve()));
  return unleash;
}

export async function benchEvaluator(msPerRound = 1000, rounds = 3): Promise<EvaluatorBench> {
  const specs = loadClientSpecs();
  const cases: Case[] = [];
  const byFile: Case[][] = [];
  const instances: Unleash[] = [];
  for (const spec of specs) {
    const gantry = new ToggleEvaluator(spec.state);
    const unleash = await startOffline(spec.file, spec.state);
    const core = createSdkClient(spec.state);
    instances.push(unleash);
    const fileCases = spec.tests.map((t) => ({
      name: t.toggleName,
      context: t.context,
      sdkContext: t.context as Context,
      expected: t.expectedResult,
      gantry,
      unleash,
      core,
    }));
    if (fileCases.length > 0) byFile.push(fileCases);
    cases.push(...fileCases);
  }
  const engines: Record<keyof EvaluatorBench['correct'], IsEnabled> = {
    gantry: (c) => c.gantry.isEnabled(c.name, c.context),
    unleashClient: (c) => c.unleash.isEnabled(c.name, c.sdkContext),
    unleashClientCore: (c) => c.core.isEnabled(c.name, c.context, () => false),
  };
  const correct = { gantry: 0, unleashClient: 0, unleashClientCore: 0 };
  for (const [name, fn] of Object.entries(engines) as [keyof typeof engines, IsEnabled][]) {
    correct[name] = cases.filter((c) => fn(c) === c.expected).length;
    measure(cases, fn, 200);
  }
  const best = { gantry: 0, unleashClient: 0, unleashClientCore: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(engines) as [keyof typeof engines, IsEnabled][]) {
      best[name] = Math.max(best[name], measure(cases, fn, msPerRound));
    }
  }
  const fileMs = Math.max(50, msPerRound / 10);
  const logRatios = byFile.map(
    (fileCases) =>
      Math.log(measure(fileCases, engines.gantry, fileMs)) -
      Math.log(measure(fileCases, engines.unleashClient, fileMs)),
  );
  const geomean = Math.exp(logRatios.reduce((a, b) => a + b, 0) / logRatios.length);
  for (const unleash of instances) unleash.destroy();
  return {
    cases: cases.length,
    rounds,
    ...best,
    ratio: Math.round((best.gantry / best.unleashClient) * 100) / 100,
    ratioToCore: Math.round((best.gantry / best.unleashClientCore) * 100) / 100,
    geomeanRatioByFile: Math.round(geomean * 100) / 100,
    correct,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchEvaluator(Number(process.argv[2] ?? 1000)), null, 2));
}
