import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Suspense } from 'react';
import { Redirect, Route, Switch } from 'wouter';
import { LiveProvider } from './api/live';
import { SessionProvider, useSession } from './api/session';
import { Layout } from './components/layout';
import { Loading } from './components/ui';
import { BoardPage } from './pages/board/board-page';
import { routes } from './pages/routes';
import { SignInPage } from './pages/sign-in/sign-in-page';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: true },
    },
  });
}

function NotFoundPage() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no console page at this address. <a href="/">Go to the board</a>.
      </p>
    </>
  );
}

function SignedIn() {
  const session = useSession();
  if (session.loading) return <Loading what="the session" />;
  if (!session.info) return <SignInPage />;
  // A metrics-only principal reads the metrics and nothing else: no board, no event stream.
  const readsApps = session.can('apps:read');
  return (
    <LiveProvider enabled={readsApps}>
      <Layout>
        <Suspense fallback={<Loading what="the page" />}>
          <Switch>
            <Route path="/">{readsApps ? <BoardPage /> : <Redirect to="/metrics" replace />}</Route>
            {routes.map((r) => (
              <Route key={r.path} path={r.path} component={r.component} />
            ))}
            <Route component={NotFoundPage} />
          </Switch>
        </Suspense>
      </Layout>
    </LiveProvider>
  );
}

export function App({ client = createQueryClient() }: { client?: QueryClient }) {
  return (
    <QueryClientProvider client={client}>
      <SessionProvider>
        <SignedIn />
      </SessionProvider>
    </QueryClientProvider>
  );
}
