import { useRef, useState } from 'react';
import { Link } from 'wouter';
import { useSession } from '../api/session';
import { principalWords } from './account-words';

/**
 * Who is signed in, as a disclosure in the top bar: what kind of principal, its groups and roles,
 * the person's own tokens, and signing out of every session at once.
 */
export function AccountMenu() {
  const session = useSession();
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLDetailsElement>(null);
  const info = session.info;
  if (!info) return null;
  const p = principalWords(info.principal);
  const close = () => ref.current?.removeAttribute('open');
  const everywhere = async () => {
    setError(null);
    try {
      await session.signOut({ everywhere: true });
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <details className="account" ref={ref} data-testid="account">
      <summary>
        <span className="small">
          {info.principal.name} <span className="muted">({p.kind})</span>
        </span>
      </summary>
      <div className="account-panel panel small">
        <p>
          Signed in as <strong>{info.principal.name}</strong>,{' '}
          {p.kind === 'person' ? 'a person' : `a ${p.kind}`}
          {p.role ? ` with the role ${p.role}` : ''}.
        </p>
        <p data-testid="account-groups">
          {info.principal.groups.length ? `Groups: ${info.principal.groups.join(', ')}` : 'In no group.'}
        </p>
        {p.bindings.length ? (
          <ul className="bindings" aria-label="Roles">
            {p.bindings.map((b) => (
              <li key={b}>{b}</li>
            ))}
          </ul>
        ) : null}
        {info.principal.kind === 'user' ? (
          <p>
            <Link href="/tokens" onClick={close}>
              Your tokens
            </Link>
          </p>
        ) : null}
        <button type="button" onClick={() => void everywhere()}>
          Sign out everywhere
        </button>
        {error ? (
          <p className="alert" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </details>
  );
}
