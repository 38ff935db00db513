import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ok } from '../../api/client';
import type { BodyOf, ResponseOf } from '../../api/types';

export type Person = ResponseOf<'/api/users'>[number];
export type RoleBinding = ResponseOf<'/api/role-bindings'>[number];
export type TokenInfo = ResponseOf<'/api/me/tokens'>[number];
export type NewPerson = BodyOf<'/api/users', 'post'>;
export type NewBinding = BodyOf<'/api/role-bindings', 'post'>;

export function usePeople() {
  return useQuery({ queryKey: ['users'], queryFn: () => ok(api.GET('/api/users')) });
}

export function useRoleBindings() {
  return useQuery({ queryKey: ['users', 'bindings'], queryFn: () => ok(api.GET('/api/role-bindings')) });
}

export function useRoles() {
  return useQuery({
    queryKey: ['users', 'roles'],
    queryFn: () => ok(api.GET('/api/roles')),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** A mutation that refreshes the People page when it succeeds. */
function usePeopleChange<A, R>(fn: (a: A) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['users'] }),
  });
}

export function useAddPerson() {
  return usePeopleChange((body: NewPerson) => ok(api.POST('/api/users', { body })));
}

export function useBind() {
  return usePeopleChange((body: NewBinding) => ok(api.POST('/api/role-bindings', { body })));
}

export function useUnbind() {
  return usePeopleChange((id: string) =>
    ok(api.DELETE('/api/role-bindings/{id}', { params: { path: { id } } })),
  );
}

export function useMyTokens(enabled: boolean) {
  return useQuery({ queryKey: ['tokens', 'mine'], queryFn: () => ok(api.GET('/api/me/tokens')), enabled });
}

export function useAllTokens(enabled: boolean) {
  return useQuery({ queryKey: ['tokens', 'all'], queryFn: () => ok(api.GET('/api/tokens')), enabled });
}

function useTokenChange<A, R>(fn: (a: A) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['tokens'] }),
  });
}

export function useCreateToken() {
  return useTokenChange((body: BodyOf<'/api/me/tokens', 'post'>) => ok(api.POST('/api/me/tokens', { body })));
}

export function useRevokeToken() {
  return useTokenChange((id: string) => ok(api.DELETE('/api/tokens/{id}', { params: { path: { id } } })));
}
