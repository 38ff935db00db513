import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, ok } from '../../api/client';
import { type Credentials, useSession } from '../../api/session';
import { signInFailure } from './sign-in-words';
import './sign-in.css';

function useSingleSignOn() {
  return useQuery({
    queryKey: ['session', 'oidc'],
    queryFn: () => ok(api.GET('/api/session/oidc')),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

function Failure({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="alert" role="alert">
      {signInFailure(error)}
    </div>
  );
}

/**
 * Sign in with a login and password, with single sign-on when the server offers it, or with an API
 * token. A token is exchanged once for a session cookie; the page keeps neither it nor the password.
 */
export function SignInPage() {
  const session = useSession();
  const sso = useSingleSignOn();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [failed, setFailed] = useState<{ form: 'password' | 'token'; error: unknown } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (form: 'password' | 'token', credentials: Credentials) => {
    setBusy(true);
    setFailed(null);
    try {
      await session.signIn(credentials);
      setToken('');
      setPassword('');
    } catch (error) {
      setFailed({ form, error });
    } finally {
      setBusy(false);
    }
  };
  const submitPassword = (e: FormEvent) => {
    e.preventDefault();
    void run('password', { login: login.trim(), password });
  };
  const submitToken = (e: FormEvent) => {
    e.preventDefault();
    void run('token', { token: token.trim() });
  };
  // A link such as `gantry demo` prints (`/#token=…`): the fragment never reaches the server; it is
  // exchanged for the session cookie once and removed from the address bar and the history.
  const fromLink = useRef(false);
  useEffect(() => {
    const m = /^#token=(.+)$/.exec(window.location.hash);
    if (!m || fromLink.current) return;
    fromLink.current = true;
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    void run('token', { token: decodeURIComponent(m[1] ?? '').trim() });
  });
  const oidc = sso.data?.enabled && sso.data.loginUrl ? sso.data : null;
  return (
    <main id="main" className="sign-in">
      <h1>Sign in to Gantry</h1>
      <form className="panel" onSubmit={submitPassword} aria-labelledby="password-h">
        <h2 id="password-h">With your login</h2>
        <div className="field">
          <label htmlFor="login">Login</label>
          <input
            id="login"
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={login}
            onChange={(e) => setLogin(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        {failed?.form === 'password' ? <Failure error={failed.error} /> : null}
        <button type="submit" className="primary" disabled={busy || !login.trim() || !password}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {oidc ? (
        <p className="panel sso">
          <a className="button primary" href={oidc.loginUrl}>
            Sign in with {oidc.issuer ? new URL(oidc.issuer).host : 'single sign-on'}
          </a>
        </p>
      ) : null}
      <form className="panel" onSubmit={submitToken} aria-labelledby="token-h">
        <h2 id="token-h">Or with a token</h2>
        <div className="field">
          <label htmlFor="token">
            API token <span className="hint">(an admin, personal or metrics token)</span>
          </label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
          <p className="hint small">
            The server printed one at its first start; it is also in <code>&lt;data-dir&gt;/cli.json</code>.
            Create more with <code>gantry token create &lt;name&gt;</code>.
          </p>
        </div>
        {failed?.form === 'token' ? <Failure error={failed.error} /> : null}
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? 'Signing in…' : 'Sign in with token'}
        </button>
      </form>
    </main>
  );
}
