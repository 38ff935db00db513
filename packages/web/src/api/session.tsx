import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useMemo } from 'react';
import { ApiError, api, ok, setCsrfToken } from './client';
import type { ResponseOf } from './types';

type SessionInfo = ResponseOf<'/api/session'>;
export type Permission = SessionInfo['permissions'][number];

/** What signs a person in: an API token, or a login and password. */
export type Credentials = { token: string } | { login: string; password: string };

export interface Session {
  info: SessionInfo | null;
  loading: boolean;
  /** Whether the signed-in principal may do this; the console hides or disables what it may not. */
  can(p: Permission): boolean;
  /** A token (a string, or `{ token }`) or a login and password. */
  signIn(credentials: string | Credentials): Promise<void>;
  /** Ends this session, or with `everywhere` every session of the person. */
  signOut(opts?: { everywhere?: boolean }): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

async function readSession(): Promise<SessionInfo | null> {
  try {
    const info = await ok(api.GET('/api/session'));
    setCsrfToken(info.csrfToken);
    return info;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setCsrfToken(undefined);
      return null;
    }
    throw e;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const query = useQuery({ queryKey: ['session'], queryFn: readSession, staleTime: 60_000, retry: false });
  const signIn = useMutation({
    mutationFn: async (credentials: Credentials) => {
      const info = await ok(api.POST('/api/session', { body: credentials }));
      setCsrfToken(info.csrfToken);
      return info;
    },
    onSuccess: (info) => {
      qc.clear();
      qc.setQueryData(['session'], info);
    },
  });
  const signOut = useMutation({
    mutationFn: async (everywhere: boolean) => {
      await ok(api.DELETE('/api/session', everywhere ? { params: { query: { everywhere: 'true' } } } : {}));
      setCsrfToken(undefined);
    },
    onSuccess: () => {
      qc.clear();
      qc.setQueryData(['session'], null);
    },
  });
  const value = useMemo<Session>(() => {
    const info = query.data ?? null;
    return {
      info,
      loading: query.isPending,
      can: (p) => info?.permissions.includes(p) ?? false,
      signIn: async (credentials) => {
        await signIn.mutateAsync(typeof credentials === 'string' ? { token: credentials } : credentials);
      },
      signOut: async (opts) => {
        await signOut.mutateAsync(opts?.everywhere === true);
      },
    };
  }, [query.data, query.isPending, signIn, signOut]);
  if (query.isError) throw query.error;
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
