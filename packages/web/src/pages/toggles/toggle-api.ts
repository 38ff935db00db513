import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { BodyOf, ResponseOf } from '../../api/types';

export type Toggle = ResponseOf<'/api/apps/{app}/toggles/{name}'>;
export type ToggleEnv = Toggle['environments'][number];
export type EnvBody = BodyOf<'/api/apps/{app}/toggles/{name}/environments/{env}', 'put'>;
export type Strategy = NonNullable<EnvBody['strategies']>[number];
export type Variant = NonNullable<EnvBody['variants']>[number];
export type Constraint = NonNullable<Strategy['constraints']>[number];
export type Segment = ResponseOf<'/api/apps/{app}/segments'>[number];
export type ClientInstance = ResponseOf<'/api/apps/{app}/client-instances'>[number];
export type ToggleType = NonNullable<BodyOf<'/api/apps/{app}/toggles', 'post'>['type']>;

export const TOGGLE_TYPES = [
  'release',
  'experiment',
  'operational',
  'kill-switch',
  'permission',
] as const satisfies readonly ToggleType[];

export function useApps() {
  return useQuery({ queryKey: ['apps'], queryFn: () => ok(api.GET('/api/apps')) });
}

export function useToggles(app: string) {
  return useQuery({
    queryKey: ['toggles', app],
    queryFn: () => ok(api.GET('/api/apps/{app}/toggles', { params: { path: { app } } })),
    enabled: app !== '',
  });
}

export function useToggle(app: string, name: string) {
  return useQuery({
    queryKey: ['toggle', app, name],
    queryFn: () => ok(api.GET('/api/apps/{app}/toggles/{name}', { params: { path: { app, name } } })),
  });
}

/** The environments in promotion order (gantry.yaml's, then any other a toggle has a state in). */
export function useToggleEnvironments(app: string) {
  return useQuery({
    queryKey: ['toggles', app, 'environments'],
    queryFn: async () =>
      (await ok(api.GET('/api/apps/{app}/toggle-environments', { params: { path: { app } } }))).environments,
  });
}

export function useSegments(app: string) {
  return useQuery({
    queryKey: ['segments', app],
    queryFn: () => ok(api.GET('/api/apps/{app}/segments', { params: { path: { app } } })),
  });
}

/** SDK instances seen by the client API; refreshed every few seconds (they do not emit events). */
export function useClientInstances(app: string) {
  return useQuery({
    queryKey: ['toggles', app, 'client-instances'],
    queryFn: () => ok(api.GET('/api/apps/{app}/client-instances', { params: { path: { app } } })),
    refetchInterval: 5_000,
  });
}

/** A toggle's state in one environment; a toggle never set there is off with no strategies. */
export function envOf(t: Pick<Toggle, 'environments'>, env: string): ToggleEnv {
  return (
    t.environments.find((e) => e.env === env) ?? {
      env,
      enabled: false,
      strategies: [],
      variants: [],
      updatedAt: '',
      enabledSince: null,
    }
  );
}

export function setEnvironment(app: string, name: string, env: string, body: EnvBody): Promise<Toggle> {
  return ok(
    api.PUT('/api/apps/{app}/toggles/{name}/environments/{env}', {
      params: { path: { app, name, env } },
      body,
    }),
  );
}

export const togglePath = (app: string, name?: string) =>
  `/apps/${encodeURIComponent(app)}/toggles${name ? `/${encodeURIComponent(name)}` : ''}`;
