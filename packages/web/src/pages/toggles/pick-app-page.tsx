import { Link } from 'wouter';
import { ErrorNote, Loading } from '../../components/ui';
import { togglePath, useApps } from './toggle-api';
import './toggles.css';

/** `/toggles`: toggles belong to an app; pick one. */
export function PickAppPage() {
  const apps = useApps();
  return (
    <>
      <h1>Toggles</h1>
      <p className="muted">Toggles belong to an app. Pick one to see its toggles in every environment.</p>
      {apps.isPending ? <Loading what="the apps" /> : null}
      <ErrorNote error={apps.error} />
      {apps.data?.length === 0 ? (
        <p className="panel">
          No app yet. Add one with <code>gantry app add &lt;name&gt; &lt;repo&gt;</code>.
        </p>
      ) : null}
      <ul className="toggle-list" aria-label="Apps">
        {apps.data?.map((a) => (
          <li key={a.name} className="panel">
            <Link href={togglePath(a.name)}>{a.name}</Link>
          </li>
        ))}
      </ul>
    </>
  );
}
