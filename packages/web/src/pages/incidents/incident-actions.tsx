import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useLocation } from 'wouter';
import { api, ok } from '../../api/client';
import type { ResponseOf } from '../../api/types';
import { Dialog, ErrorNote } from '../../components/ui';

export type Incident = ResponseOf<'/api/incidents/{id}'>;

/** Resolve, after a confirmation that says what it records. */
export function ResolveButton({ incident }: { incident: Incident }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const resolve = useMutation({
    mutationFn: () =>
      ok(api.POST('/api/incidents/{id}/resolve', { params: { path: { id: incident.id } }, body: {} })),
    onSuccess: () => {
      setOpen(false);
      void qc.invalidateQueries({ queryKey: ['incidents'] });
      void qc.invalidateQueries({ queryKey: ['metrics'] });
    },
  });
  return (
    <>
      <button type="button" onClick={() => setOpen(true)} aria-label={`Resolve “${incident.title}”`}>
        Resolve
      </button>
      <Dialog
        open={open}
        onClose={() => {
          setOpen(false);
          resolve.reset();
        }}
        title="Resolve this incident?"
      >
        <p>
          <strong>{incident.title}</strong> ({incident.app} / {incident.env}) will be recorded as resolved
          now. Time to restore counts until this moment.
        </p>
        <ErrorNote error={resolve.error} />
        <div className="actions">
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
          <button
            type="button"
            className="primary"
            disabled={resolve.isPending}
            onClick={() => resolve.mutate()}
          >
            {resolve.isPending ? 'Resolving…' : 'Resolve incident'}
          </button>
        </div>
      </Dialog>
    </>
  );
}

function deploymentLabel(d: ResponseOf<'/api/deployments'>[number]): string {
  const when = (d.finishedAt ?? d.requestedAt).slice(0, 16).replace('T', ' ');
  return `${d.sha.slice(0, 8)} · ${d.status} · ${d.trigger} · ${when} UTC`;
}

function OpenIncidentForm({ onDone }: { onDone: (id: string) => void }) {
  const qc = useQueryClient();
  const apps = useQuery({ queryKey: ['apps'], queryFn: () => ok(api.GET('/api/apps')) });
  const [app, setApp] = useState('');
  const [env, setEnv] = useState('');
  const [title, setTitle] = useState('');
  const [deploymentId, setDeploymentId] = useState('');
  const chosenApp = app || apps.data?.[0]?.name || '';
  const envs = useQuery({
    queryKey: ['environments', chosenApp],
    queryFn: () => ok(api.GET('/api/apps/{app}/environments', { params: { path: { app: chosenApp } } })),
    enabled: !!chosenApp,
  });
  const envNames = envs.data?.map((e) => e.env) ?? [];
  const chosenEnv =
    env && envNames.includes(env)
      ? env
      : ((envNames.includes('production') ? 'production' : envNames[0]) ?? '');
  const deployments = useQuery({
    queryKey: ['deployments', chosenApp, chosenEnv, 'recent'],
    queryFn: () =>
      ok(api.GET('/api/deployments', { params: { query: { app: chosenApp, env: chosenEnv, limit: 20 } } })),
    enabled: !!chosenApp && !!chosenEnv,
  });
  const open = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/incidents', {
          body: {
            app: chosenApp,
            env: chosenEnv,
            ...(title.trim() ? { title: title.trim() } : {}),
            ...(deploymentId ? { deploymentId } : {}),
          },
        }),
      ),
    onSuccess: (incident) => {
      void qc.invalidateQueries({ queryKey: ['incidents'] });
      onDone(incident.id);
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        open.mutate();
      }}
    >
      <ErrorNote error={apps.error ?? envs.error ?? deployments.error} />
      <div className="field">
        <label htmlFor="incident-app">App</label>
        <select
          id="incident-app"
          value={chosenApp}
          onChange={(e) => {
            setApp(e.target.value);
            setEnv('');
            setDeploymentId('');
          }}
        >
          {apps.data?.map((a) => (
            <option key={a.name} value={a.name}>
              {a.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="incident-env">Environment</label>
        <select
          id="incident-env"
          value={chosenEnv}
          onChange={(e) => {
            setEnv(e.target.value);
            setDeploymentId('');
          }}
        >
          {envNames.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="incident-title">
          Title <span className="hint">(optional)</span>
        </label>
        <input
          id="incident-title"
          value={title}
          maxLength={500}
          placeholder={chosenApp && chosenEnv ? `Incident in ${chosenApp}/${chosenEnv}` : ''}
          onChange={(e) => setTitle(e.target.value)}
          style={{ width: '100%' }}
        />
      </div>
      <div className="field">
        <label htmlFor="incident-deployment">
          Caused by deployment{' '}
          <span className="hint">(optional: recent deployments of this environment)</span>
        </label>
        <select
          id="incident-deployment"
          value={deploymentId}
          onChange={(e) => setDeploymentId(e.target.value)}
          style={{ width: '100%' }}
        >
          <option value="">Not linked to a deployment</option>
          {deployments.data?.map((d) => (
            <option key={d.id} value={d.id}>
              {deploymentLabel(d)}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={open.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={open.isPending || !chosenApp || !chosenEnv}>
          {open.isPending ? 'Opening…' : 'Open incident'}
        </button>
      </div>
    </form>
  );
}

/** "Open an incident" and its form; after opening, the incident's page. */
export function OpenIncidentButton() {
  const [open, setOpen] = useState(false);
  const [, navigate] = useLocation();
  return (
    <>
      <button type="button" className="primary" onClick={() => setOpen(true)}>
        Open an incident
      </button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Open an incident">
        <OpenIncidentForm
          onDone={(id) => {
            setOpen(false);
            navigate(`/incidents/${id}`);
          }}
        />
        <div className="actions">
          <button type="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}
