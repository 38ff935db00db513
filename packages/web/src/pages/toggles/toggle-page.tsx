import { useState } from 'react';
import { Link, useParams } from 'wouter';
import { TimeFromNow } from '../../components/time-from-now';
import { Badge, ErrorNote, Loading } from '../../components/ui';
import { EnvEditor } from './env-editor';
import { EnvSwitch } from './env-switch';
import { SdkInstances } from './sdk-instances';
import { envOf, togglePath, useSegments, useToggle, useToggleEnvironments } from './toggle-api';
import { ToggleHistoryPanel } from './toggle-history-panel';
import './toggles.css';

/** One toggle: its switch, strategies and variants per environment, its history, the SDKs reading it. */
export function TogglePage() {
  const { app = '', name = '' } = useParams<{ app: string; name: string }>();
  const toggle = useToggle(app, name);
  const envs = useToggleEnvironments(app);
  const segments = useSegments(app);
  const [picked, setPicked] = useState<string | null>(null);
  const [switchError, setSwitchError] = useState<unknown>(null);
  const crumbs = (
    <p className="small">
      <Link href="/toggles">Toggles</Link> / <Link href={togglePath(app)}>{app}</Link> / {name}
    </p>
  );
  if (toggle.isPending || envs.isPending)
    return (
      <>
        {crumbs}
        <Loading what="the toggle" />
      </>
    );
  if (toggle.error || envs.error)
    return (
      <>
        {crumbs}
        <ErrorNote error={toggle.error ?? envs.error} />
      </>
    );
  const t = toggle.data;
  const allEnvs = [...new Set([...envs.data, ...t.environments.map((e) => e.env)])];
  const env = picked ?? allEnvs[0] ?? 'production';
  const state = envOf(t, env);
  return (
    <>
      {crumbs}
      <h1>
        {t.name} <Badge>{t.type}</Badge> {t.archivedAt ? <Badge tone="warn">archived</Badge> : null}
      </h1>
      <p className="small muted">
        {t.description ? `${t.description} · ` : ''}created by {t.createdBy} <TimeFromNow iso={t.createdAt} />
        {t.owner ? ` · owner ${t.owner}` : ''}
      </p>
      <div className="stack">
        <section className="panel" aria-labelledby="envs">
          <h2 id="envs">Environments</h2>
          <fieldset className="env-picker">
            <legend className="small">Environment to edit</legend>
            <div className="env-buttons">
              {allEnvs.map((e) => (
                <button key={e} type="button" aria-pressed={e === env} onClick={() => setPicked(e)}>
                  {e}: {envOf(t, e).enabled ? 'on' : 'off'}
                </button>
              ))}
            </div>
          </fieldset>
          <p className="row" style={{ marginTop: '0.75rem' }}>
            <span className="inline">
              <EnvSwitch
                app={app}
                toggle={t.name}
                env={env}
                enabled={state.enabled}
                onError={setSwitchError}
              />
              <span>
                {state.enabled ? 'On' : 'Off'} in <strong>{env}</strong>
                {state.enabledSince ? (
                  <span className="small muted">
                    {' '}
                    since <TimeFromNow iso={state.enabledSince} />
                  </span>
                ) : null}
              </span>
            </span>
          </p>
          <ErrorNote error={switchError} />
          <EnvEditor key={env} app={app} name={t.name} state={state} segments={segments.data ?? []} />
        </section>
        <ToggleHistoryPanel app={app} name={t.name} />
        <SdkInstances app={app} env={env} />
      </div>
    </>
  );
}
