import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../../api/client';

/**
 * The builds area's reads. Keys start with the words the live stream invalidates (live.tsx): a
 * push refreshes ['commits'], a build ['builds'] and ['build'], a deployment ['deployments'] and
 * ['environments'], an artifact ['artifacts'].
 */
export function useApps() {
  return useQuery({ queryKey: ['apps'], queryFn: () => ok(api.GET('/api/apps')) });
}

export function useCommits(app: string, limit: number) {
  return useQuery({
    queryKey: ['commits', app, limit],
    queryFn: () => ok(api.GET('/api/apps/{app}/commits', { params: { path: { app }, query: { limit } } })),
  });
}

export function useAppBuilds(app: string) {
  return useQuery({
    queryKey: ['builds', app],
    queryFn: () => ok(api.GET('/api/builds', { params: { query: { app, limit: 500 } } })),
  });
}

export function useAppDeployments(app: string) {
  return useQuery({
    queryKey: ['deployments', app, 'all'],
    queryFn: () => ok(api.GET('/api/deployments', { params: { query: { app, limit: 1000 } } })),
  });
}

export function useEnvironments(app: string) {
  return useQuery({
    queryKey: ['environments', app],
    queryFn: () => ok(api.GET('/api/apps/{app}/environments', { params: { path: { app } } })),
  });
}

export function useBuild(id: string) {
  return useQuery({
    queryKey: ['build', id],
    queryFn: () => ok(api.GET('/api/builds/{id}', { params: { path: { id } } })),
  });
}

export function useArtifact(id: string | null | undefined) {
  return useQuery({
    queryKey: ['artifacts', 'one', id],
    enabled: Boolean(id),
    queryFn: () => ok(api.GET('/api/artifacts/{id}', { params: { path: { id: id ?? '' } } })),
  });
}
