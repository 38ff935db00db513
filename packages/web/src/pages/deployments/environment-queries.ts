import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../../api/client';

export function useEnvironments(app: string) {
  return useQuery({
    queryKey: ['environments', app],
    queryFn: () => ok(api.GET('/api/apps/{app}/environments', { params: { path: { app } } })),
  });
}

export function useHistory(app: string, env: string, enabled = true) {
  return useQuery({
    queryKey: ['deployments', app, env, 'history'],
    queryFn: () => ok(api.GET('/api/deployments', { params: { query: { app, env, limit: 100 } } })),
    enabled,
  });
}

export function useConfigDiff(app: string, env: string, other: string | null) {
  return useQuery({
    queryKey: ['environments', app, env, 'config-diff', other],
    queryFn: () =>
      ok(
        api.GET('/api/apps/{app}/environments/{env}/config-diff', {
          params: { path: { app, env }, query: { with: other ?? '' } },
        }),
      ),
    enabled: Boolean(other),
    retry: false,
  });
}
