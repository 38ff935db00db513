import { type FormEvent, useState } from 'react';
import { useSession } from '../../api/session';
import { Badge, ErrorNote, Loading, RelativeTime } from '../../components/ui';
import { type AgentInfo, useAgents, useCreateAgentToken, useRevokeAgentToken } from './agents-queries';
import { agentCommand, agentState, parseLabels } from './agents-words';
import '../people/people.css';
import { Field } from '../toggles/field';

const TONE = { connected: 'ok', idle: 'warn', revoked: 'neutral' } as const;

function AgentTable({ agents }: { agents: AgentInfo[] }) {
  const revoke = useRevokeAgentToken();
  if (agents.length === 0)
    return <p className="muted">No agent yet: create a token below and run `gantry agent` with it.</p>;
  return (
    <>
      <ErrorNote error={revoke.error} />
      <div className="table-wrap">
        <table aria-label="Agents">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Labels</th>
              <th scope="col">Hosts held</th>
              <th scope="col">Last asked for work</th>
              <th scope="col">
                <span className="muted">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => {
              const state = agentState(a);
              return (
                <tr key={a.id}>
                  <td>
                    {a.name} <Badge tone={TONE[state]}>{state}</Badge>
                    <div className="small muted">
                      <code>{a.id}</code>
                    </div>
                  </td>
                  <td className="small">{a.labels.join(', ')}</td>
                  <td className="small">
                    {a.hosts.length ? (
                      a.hosts.map((h) => h.host).join(', ')
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  <td className="small">
                    {a.lastSeenAt ? (
                      <RelativeTime iso={a.lastSeenAt} />
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                  <td>
                    {state !== 'revoked' ? (
                      <button
                        type="button"
                        className="danger"
                        disabled={revoke.isPending}
                        aria-label={`Revoke ${a.name}`}
                        onClick={() => revoke.mutate(a.id)}
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

function NewAgentForm() {
  const create = useCreateAgentToken();
  const [name, setName] = useState('');
  const [labels, setLabels] = useState('');
  const [made, setMade] = useState<{ name: string; token: string; labels: string[] } | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setMade(null);
    try {
      const t = await create.mutateAsync({
        labels: parseLabels(labels),
        ...(name.trim() ? { name: name.trim() } : {}),
      });
      setMade({ name: t.name, token: t.token, labels: t.labels });
      setName('');
      setLabels('');
    } catch {
      // shown below from the mutation's error
    }
  };
  return (
    <form className="panel people-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-agent-h">
      <h2 id="new-agent-h">New agent token</h2>
      <p className="small muted">
        An agent takes the builds whose <code>build.runs_on</code> names its labels, and serves the
        environments whose <code>host</code> or <code>hosts</code> names one. It sees only its jobs.
      </p>
      <Field id="agent-labels" label="Labels" hint="Commas or spaces, e.g. linux, big, web-1">
        {(props) => (
          <input
            {...props}
            required
            autoComplete="off"
            value={labels}
            onChange={(e) => setLabels(e.target.value)}
          />
        )}
      </Field>
      <Field id="agent-name" label="Name" hint="Optional; agent-<labels> when empty">
        {(props) => (
          <input {...props} autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        )}
      </Field>
      <ErrorNote error={create.error} />
      <button
        type="submit"
        className="primary"
        disabled={create.isPending || parseLabels(labels).length === 0}
      >
        Create agent token
      </button>
      {made ? (
        <div className="notice new-token" role="status" data-testid="new-agent-token">
          <p>
            Agent token <strong>{made.name}</strong>. Copy it now: it is shown this once and never again. On
            the agent's machine:
          </p>
          <code>{agentCommand(window.location.origin, made.token, made.labels)}</code>
        </div>
      ) : null}
    </form>
  );
}

/** Agents (admin): who builds and serves on other machines, the hosts each holds, their tokens. */
export function AgentsPage() {
  const session = useSession();
  const admin = session.can('server:admin');
  const agents = useAgents();
  if (!admin) return <p className="panel">Agents are for admins (server:admin).</p>;
  return (
    <div className="stack area-page">
      <h1>Agents</h1>
      <section className="panel" aria-labelledby="agents-h">
        <h2 id="agents-h">Agent tokens</h2>
        <ErrorNote error={agents.error} />
        {agents.isPending ? <Loading what="the agents" /> : null}
        {agents.data ? <AgentTable agents={agents.data} /> : null}
      </section>
      <NewAgentForm />
    </div>
  );
}
