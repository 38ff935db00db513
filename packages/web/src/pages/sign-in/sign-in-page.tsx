import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useSession } from '../../api/session';
import { ErrorNote } from '../../components/ui';

/** A token is exchanged once for a session cookie; the token itself is not kept by the page. */
export function SignInPage() {
  const session = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (value: string) => {
    setBusy(true);
    setError(null);
    try {
      await session.signIn(value.trim());
      setToken('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(token);
  };
  // A link such as `gantry demo` prints (`/#token=…`): the fragment never reaches the server; it is
  // exchanged for the session cookie once and removed from the address bar and the history.
  const fromLink = useRef(false);
  useEffect(() => {
    const m = /^#token=(.+)$/.exec(window.location.hash);
    if (!m || fromLink.current) return;
    fromLink.current = true;
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    void run(decodeURIComponent(m[1] ?? ''));
  });
  return (
    <main id="main" style={{ maxWidth: '28rem', margin: '4rem auto' }}>
      <h1>Sign in to Gantry</h1>
      <form className="panel" onSubmit={submit}>
        <div className="field">
          <label htmlFor="token">
            API token <span className="hint">(an admin or metrics token)</span>
          </label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="current-password"
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
            style={{ width: '100%' }}
          />
          <p className="hint small">
            The server printed one at its first start; it is also in <code>&lt;data-dir&gt;/cli.json</code>.
            Create more with <code>gantry token create &lt;name&gt;</code>.
          </p>
        </div>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy || !token.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
