import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { ResponseOf } from '../../api/types';

export type ApprovalRequest = ResponseOf<'/api/deployments/{id}/approvals'>;

/** Requests waiting for approval, oldest first (every app and environment, or one). */
export function usePendingApprovals(filter: { app?: string; env?: string } = {}, enabled = true) {
  return useQuery({
    queryKey: ['approvals', filter.app ?? '', filter.env ?? ''],
    queryFn: () => ok(api.GET('/api/approvals', { params: { query: filter } })),
    enabled,
  });
}

/** One request: the rules it was asked under, who asked, each decision. */
export function useApprovalRequest(id: string, enabled = true) {
  return useQuery({
    queryKey: ['deployment', id, 'approvals'],
    queryFn: () => ok(api.GET('/api/deployments/{id}/approvals', { params: { path: { id } } })),
    enabled,
  });
}

/** The deployment itself, for its approval summary (when the request expires). */
export function useDeploymentSummary(id: string, enabled = true) {
  return useQuery({
    queryKey: ['deployment', id, 'summary'],
    queryFn: () => ok(api.GET('/api/deployments/{id}', { params: { path: { id } } })),
    enabled,
  });
}

/** Approve or reject a request, with a comment; refreshes what shows it. */
export function useDecision(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ verdict, comment }: { verdict: 'approve' | 'reject'; comment: string }) => {
      const body = comment.trim() ? { comment: comment.trim() } : {};
      return verdict === 'approve'
        ? ok(api.POST('/api/deployments/{id}/approve', { params: { path: { id } }, body }))
        : ok(api.POST('/api/deployments/{id}/reject', { params: { path: { id } }, body }));
    },
    onSuccess: (state) => {
      qc.setQueryData(['deployment', id, 'approvals'], state);
      for (const key of [['approvals'], ['deployment', id], ['deployments'], ['status']])
        void qc.invalidateQueries({ queryKey: key });
    },
  });
}
