import { useQuery } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { ResponseOf } from '../../api/types';

export type BoardEntry = ResponseOf<'/api/board'>[number];
export type Promotion = ResponseOf<'/api/apps/{app}/environments/{env}/promotion'>;
export type RollbackChoices = ResponseOf<'/api/apps/{app}/environments/{env}/rollback-choices'>;

/** What the board adds to /api/status (commits waiting upstream, warm standby); stale with 'status'. */
export function useBoardExtras(enabled: boolean) {
  return useQuery({
    queryKey: ['status', 'board'],
    queryFn: () => ok(api.GET('/api/board')),
    enabled,
  });
}

export function usePromotion(app: string, env: string) {
  return useQuery({
    queryKey: ['status', 'promotion', app, env],
    queryFn: () =>
      ok(api.GET('/api/apps/{app}/environments/{env}/promotion', { params: { path: { app, env } } })),
    staleTime: 0,
    retry: false,
  });
}

export function useRollbackChoices(app: string, env: string) {
  return useQuery({
    queryKey: ['deployments', 'rollback-choices', app, env],
    queryFn: () =>
      ok(api.GET('/api/apps/{app}/environments/{env}/rollback-choices', { params: { path: { app, env } } })),
    staleTime: 0,
    retry: false,
  });
}
