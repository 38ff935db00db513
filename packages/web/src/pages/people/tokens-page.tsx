import { type FormEvent, useState } from 'react';
import { useSession } from '../../api/session';
import { Badge, ErrorNote, Loading } from '../../components/ui';
import { type TokenInfo, useAllTokens, useCreateToken, useMyTokens, useRevokeToken } from './people-queries';
import { tokenState, whenWords } from './people-words';
import './people.css';

function TokenTable({
  tokens,
  label,
  showOwner,
}: {
  tokens: TokenInfo[];
  label: string;
  showOwner?: boolean;
}) {
  const revoke = useRevokeToken();
  if (tokens.length === 0) return <p className="muted">No token yet.</p>;
  return (
    <>
      <ErrorNote error={revoke.error} />
      <div className="table-wrap">
        <table aria-label={label}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              {showOwner ? <th scope="col">Role</th> : null}
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="muted">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => {
              const state = tokenState(t);
              return (
                <tr key={t.id}>
                  <td>
                    {t.name}{' '}
                    {state !== 'active' ? (
                      <Badge tone={state === 'revoked' ? 'neutral' : 'warn'}>{state}</Badge>
                    ) : null}
                    <div className="small muted">created {whenWords(t.createdAt, '—')}</div>
                  </td>
                  {showOwner ? (
                    <td className="small">
                      {t.user ? `personal, of ${t.user}` : t.role}
                      {t.app ? ` on ${t.app}${t.env ? ` ${t.env}` : ''}` : ''}
                    </td>
                  ) : null}
                  <td className="small">{whenWords(t.lastUsedAt, 'never')}</td>
                  <td className="small">{whenWords(t.expiresAt, 'never')}</td>
                  <td>
                    {state === 'active' ? (
                      <button
                        type="button"
                        className="danger"
                        disabled={revoke.isPending}
                        aria-label={`Revoke ${t.name}`}
                        onClick={() => revoke.mutate(t.id)}
                      >
                        Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

function CreateTokenForm() {
  const create = useCreateToken();
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('90d');
  const [made, setMade] = useState<{ name: string; token: string; expiresAt: string | null } | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setMade(null);
    try {
      const t = await create.mutateAsync({
        name: name.trim(),
        ...(expires.trim() ? { expires: expires.trim() } : {}),
      });
      setMade({ name: name.trim(), token: t.token, expiresAt: t.expiresAt });
      setName('');
    } catch {
      // shown below from the mutation's error
    }
  };
  return (
    <form className="panel people-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-token-h">
      <h2 id="new-token-h">New token</h2>
      <p className="small muted">
        A personal token acts with your rights as they are at each request, never more.
      </p>
      <div className="field">
        <label htmlFor="token-name">Name</label>
        <input
          id="token-name"
          required
          autoComplete="off"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="token-expires">
          Expires after <span className="hint">(90d, 12h, 2w, 1y or a date; empty: never)</span>
        </label>
        <input
          id="token-expires"
          autoComplete="off"
          value={expires}
          onChange={(e) => setExpires(e.target.value)}
        />
      </div>
      <ErrorNote error={create.error} />
      <button type="submit" className="primary" disabled={create.isPending || !name.trim()}>
        Create token
      </button>
      {made ? (
        <div className="notice new-token" role="status" data-testid="new-token">
          <p>
            Your token <strong>{made.name}</strong>
            {made.expiresAt ? ` (expires ${whenWords(made.expiresAt, 'never')})` : ''}. Copy it now: it is
            shown this once and never again.
          </p>
          <code>{made.token}</code>
        </div>
      ) : null}
    </form>
  );
}

/** The signed-in person's own tokens (when each was last used, when it expires), and, for an admin, every token. */
export function TokensPage() {
  const session = useSession();
  const person = session.info?.principal.kind === 'user';
  const mine = useMyTokens(person);
  const admin = session.can('tokens:write');
  const all = useAllTokens(admin);
  return (
    <div className="stack area-page">
      <h1>Your tokens</h1>
      {person ? (
        <>
          <section className="panel" aria-labelledby="mine-h">
            <h2 id="mine-h">Personal tokens</h2>
            <ErrorNote error={mine.error} />
            {mine.isPending ? <Loading what="your tokens" /> : null}
            {mine.data ? <TokenTable tokens={mine.data} label="Your tokens" /> : null}
          </section>
          <CreateTokenForm />
        </>
      ) : (
        <p className="panel">
          Personal tokens belong to people; this session is a token. Sign in with a login to make your own.
        </p>
      )}
      {admin ? (
        <section className="panel" aria-labelledby="all-h">
          <h2 id="all-h">Every token</h2>
          <ErrorNote error={all.error} />
          {all.isPending ? <Loading what="the tokens" /> : null}
          {all.data ? <TokenTable tokens={all.data} label="Every token" showOwner /> : null}
        </section>
      ) : null}
    </div>
  );
}
