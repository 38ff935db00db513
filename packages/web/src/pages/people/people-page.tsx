import { type FormEvent, useState } from 'react';
import { useSession } from '../../api/session';
import { Badge, ErrorNote, Loading } from '../../components/ui';
import {
  type Person,
  useAddPerson,
  useBind,
  usePeople,
  useRoleBindings,
  useRoles,
  useUnbind,
} from './people-queries';
import { bindingWords, parseGroups, personBindingWords, subjectOf } from './people-words';
import './people.css';

function AddPersonForm() {
  const add = useAddPerson();
  const [login, setLogin] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [groups, setGroups] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setAdded(null);
    try {
      const p = await add.mutateAsync({
        login: login.trim(),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(password ? { password } : {}),
        groups: parseGroups(groups),
      });
      setAdded(`Added ${p.login}${p.groups.length ? ` in ${p.groups.join(', ')}` : ''}.`);
      setLogin('');
      setName('');
      setPassword('');
      setGroups('');
    } catch {
      // shown below from the mutation's error
    }
  };
  return (
    <form className="panel people-form" onSubmit={(e) => void submit(e)} aria-labelledby="add-person-h">
      <h2 id="add-person-h">Add a person</h2>
      <div className="field">
        <label htmlFor="new-login">Login</label>
        <input
          id="new-login"
          required
          autoComplete="off"
          value={login}
          onChange={(e) => setLogin(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="new-name">Name</label>
        <input id="new-name" autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="new-password">
          Password <span className="hint">(at least 10 characters; leave empty for single sign-on only)</span>
        </label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="new-groups">
          Groups <span className="hint">(separated by commas)</span>
        </label>
        <input
          id="new-groups"
          autoComplete="off"
          value={groups}
          onChange={(e) => setGroups(e.target.value)}
        />
      </div>
      <ErrorNote error={add.error} />
      {added ? (
        <p className="notice" role="status">
          {added}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={add.isPending || !login.trim()}>
        Add person
      </button>
    </form>
  );
}

function BindRoleForm({ people }: { people: Person[] }) {
  const bind = useBind();
  const roles = useRoles();
  const [subject, setSubject] = useState('');
  const [role, setRole] = useState('viewer');
  const [app, setApp] = useState('');
  const [env, setEnv] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const s = subjectOf(subject);
    setProblem(s ? null : 'Name a person (alice or user:alice) or a group (group:ops).');
    if (!s) return;
    try {
      await bind.mutateAsync({
        subject: s,
        role,
        ...(app.trim() ? { app: app.trim() } : {}),
        ...(app.trim() && env.trim() ? { env: env.trim() } : {}),
      });
      setSubject('');
      setApp('');
      setEnv('');
    } catch {
      // shown below from the mutation's error
    }
  };
  return (
    <form className="panel people-form" onSubmit={(e) => void submit(e)} aria-labelledby="bind-h">
      <h2 id="bind-h">Bind a role</h2>
      <div className="field">
        <label htmlFor="bind-subject">
          To <span className="hint">(a login, user:login or group:name)</span>
        </label>
        <input
          id="bind-subject"
          list="bind-subjects"
          required
          autoComplete="off"
          value={subject}
          onChange={(e) => setSubject(e.target.value)}
        />
        <datalist id="bind-subjects">
          {people.map((p) => (
            <option key={p.id} value={`user:${p.login}`} />
          ))}
          {[...new Set(people.flatMap((p) => p.groups))].map((g) => (
            <option key={g} value={`group:${g}`} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor="bind-role">Role</label>
        <select id="bind-role" value={role} onChange={(e) => setRole(e.target.value)}>
          {(roles.data ?? []).map((r) => (
            <option key={r.role} value={r.role}>
              {r.role}
            </option>
          ))}
        </select>
        <p className="hint small">{roles.data?.find((r) => r.role === role)?.description}</p>
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="bind-app">
            App <span className="hint">(empty: every app)</span>
          </label>
          <input id="bind-app" autoComplete="off" value={app} onChange={(e) => setApp(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="bind-env">
            Environment <span className="hint">(empty: every one)</span>
          </label>
          <input
            id="bind-env"
            autoComplete="off"
            disabled={!app.trim()}
            value={env}
            onChange={(e) => setEnv(e.target.value)}
          />
        </div>
      </div>
      {problem ? (
        <p className="alert" role="alert">
          {problem}
        </p>
      ) : null}
      <ErrorNote error={bind.error} />
      <button type="submit" className="primary" disabled={bind.isPending}>
        Bind role
      </button>
    </form>
  );
}

function BindingsTable() {
  const bindings = useRoleBindings();
  const unbind = useUnbind();
  if (bindings.isPending) return <Loading what="the role bindings" />;
  if (bindings.error) return <ErrorNote error={bindings.error} />;
  return (
    <section className="panel" aria-labelledby="bindings-h">
      <h2 id="bindings-h">Role bindings</h2>
      <ErrorNote error={unbind.error} />
      <div className="table-wrap">
        <table data-testid="bindings">
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Role</th>
              <th scope="col">By</th>
              <th scope="col">
                <span className="muted">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {bindings.data.map((b) => (
              <tr key={b.id}>
                <td>{b.subject}</td>
                <td>{bindingWords(b)}</td>
                <td className="small muted">{b.createdBy}</td>
                <td>
                  <button
                    type="button"
                    disabled={unbind.isPending}
                    aria-label={`Unbind ${bindingWords(b)} from ${b.subject}`}
                    onClick={() => unbind.mutate(b.id)}
                  >
                    Unbind
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** People, their groups and roles; adding a person; binding and unbinding roles (users:write). */
export function PeoplePage() {
  const session = useSession();
  const may = session.can('users:write');
  const people = usePeople();
  if (!may)
    return (
      <>
        <h1>People</h1>
        <p className="panel">Managing people needs users:write (the admin role).</p>
      </>
    );
  return (
    <div className="stack area-page">
      <h1>People</h1>
      <ErrorNote error={people.error} />
      {people.isPending ? <Loading what="the people" /> : null}
      {people.data ? (
        <section className="panel" aria-labelledby="people-h">
          <h2 id="people-h">People</h2>
          <div className="table-wrap">
            <table data-testid="people">
              <thead>
                <tr>
                  <th scope="col">Login</th>
                  <th scope="col">Groups</th>
                  <th scope="col">Roles</th>
                </tr>
              </thead>
              <tbody>
                {people.data.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <strong>{p.login}</strong> {p.name ? <span className="muted">{p.name}</span> : null}
                      <div className="small muted">
                        {p.source === 'local' ? 'password' : `single sign-on (${p.source})`}{' '}
                        {p.disabled ? <Badge tone="bad">disabled</Badge> : null}
                      </div>
                    </td>
                    <td>{p.groups.length ? p.groups.join(', ') : <span className="muted">none</span>}</td>
                    <td>
                      {p.bindings.length ? (
                        <ul className="plain">
                          {p.bindings.map((b) => (
                            <li key={b.id}>{personBindingWords(p.login, b)}</li>
                          ))}
                        </ul>
                      ) : (
                        <span className="muted">no role: cannot sign in</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
      <BindingsTable />
      <div className="people-forms">
        <AddPersonForm />
        <BindRoleForm people={people.data ?? []} />
      </div>
    </div>
  );
}
