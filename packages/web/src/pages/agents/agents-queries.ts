import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { BodyOf, ResponseOf } from '../../api/types';

export type AgentInfo = ResponseOf<'/api/agents'>[number];
export type NewAgentToken = BodyOf<'/api/agents/tokens', 'post'>;

/** Agent tokens with their labels, hosts and when each last asked for work; re-read every 5 s. */
export function useAgents() {
  return useQuery({
    queryKey: ['agents'],
    queryFn: () => ok(api.GET('/api/agents')),
    refetchInterval: 5_000,
  });
}

function useAgentChange<A, R>(fn: (a: A) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['agents'] }),
  });
}

export function useCreateAgentToken() {
  return useAgentChange((body: NewAgentToken) => ok(api.POST('/api/agents/tokens', { body })));
}

export function useRevokeAgentToken() {
  return useAgentChange((id: string) =>
    ok(api.DELETE('/api/agents/tokens/{id}', { params: { path: { id } } })),
  );
}
