import { useState } from 'react';
import { Link, useParams } from 'wouter';
import { Badge, ErrorNote, Loading } from '../../components/ui';
import { CreateToggle } from './create-toggle';
import { EnvSwitch } from './env-switch';
import { SdkInstances } from './sdk-instances';
import { describeStrategy } from './strategy-words';
import { envOf, type Toggle, togglePath, useToggleEnvironments, useToggles } from './toggle-api';
import './toggles.css';

function ToggleCard({ app, t, envs }: { app: string; t: Toggle; envs: string[] }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <li className="panel" data-testid={`toggle-${t.name}`}>
      <h2>
        <Link href={togglePath(app, t.name)}>{t.name}</Link> <Badge>{t.type}</Badge>
      </h2>
      {t.description ? <p className="small muted">{t.description}</p> : null}
      <div className="toggle-envs">
        {envs.map((env) => {
          const e = envOf(t, env);
          return (
            <div key={env} className="toggle-env">
              <span className="inline">
                <EnvSwitch app={app} toggle={t.name} env={env} enabled={e.enabled} onError={setError} />
                <span>
                  {env}: <strong>{e.enabled ? 'on' : 'off'}</strong>
                </span>
              </span>
              <span className="summary">
                {e.strategies.length ? e.strategies.map(describeStrategy).join('; ') : 'Everyone'}
                {e.variants.length ? ` · ${e.variants.length} variants` : ''}
              </span>
            </div>
          );
        })}
      </div>
      <ErrorNote error={error} />
    </li>
  );
}

/** An app's toggles with a switch per environment, a form to create one, and the SDKs connected. */
export function ToggleListPage() {
  const { app = '' } = useParams<{ app: string }>();
  const toggles = useToggles(app);
  const envs = useToggleEnvironments(app);
  return (
    <>
      <p className="small">
        <Link href="/toggles">Toggles</Link> / {app}
      </p>
      <h1>Toggles of {app}</h1>
      <div className="stack">
        <CreateToggle app={app} />
        {toggles.isPending || envs.isPending ? <Loading what="the toggles" /> : null}
        <ErrorNote error={toggles.error ?? envs.error} />
        {toggles.data && envs.data ? (
          toggles.data.length === 0 ? (
            <p className="panel">
              No toggle in {app} yet. Create one above, or with{' '}
              <code>gantry toggles create &lt;name&gt;</code>.
            </p>
          ) : (
            <ul className="toggle-list" aria-label={`Toggles of ${app}`}>
              {toggles.data.map((t) => (
                <ToggleCard key={t.id} app={app} t={t} envs={envs.data} />
              ))}
            </ul>
          )
        ) : null}
        <SdkInstances app={app} />
      </div>
    </>
  );
}
