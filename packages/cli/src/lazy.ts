/** The functions of module `M`, each returning a promise of what it returns. */
export type LazyModule<M> = {
  [K in keyof M as M[K] extends (...args: never[]) => unknown ? K : never]: M[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/**
 * A command module loaded when one of its functions is first called, not when the program starts:
 * `const { statusCommand } = lazily(() => import('./commands/deploy.js'))`. `gantry --help` and the
 * commands that only talk to the API then never load what the others need (@gantry/contracts' schemas
 * with zod, the YAML parser, croner), which is most of the CLI's start-up (docs/install.md).
 */
export function lazily<M>(load: () => Promise<M>): LazyModule<M> {
  let loaded: Promise<M> | undefined;
  return new Proxy({} as LazyModule<M>, {
    get:
      (_, name) =>
      async (...args: unknown[]) => {
        loaded ??= load();
        const mod = (await loaded) as Record<string | symbol, (...a: unknown[]) => unknown>;
        return mod[name]!(...args);
      },
  });
}
