import { useState } from 'react';
import { ErrorNote, Loading, ShortSha } from '../../components/ui';
import { useConfigDiff } from './environment-queries';

/** The keys two environments' gantry.yaml sections differ in, each read at the SHA it runs. */
export function ConfigDiff({
  app,
  env,
  others,
  initial,
}: {
  app: string;
  env: string;
  others: string[];
  initial: string | null;
}) {
  const [other, setOther] = useState<string | null>(initial ?? others[0] ?? null);
  const diff = useConfigDiff(app, env, other);
  const d = diff.data;
  return (
    <section className="panel" aria-labelledby="diff-h">
      <h2 id="diff-h">Configuration difference</h2>
      {others.length === 0 ? (
        <p className="muted">{app} has no other environment to compare with.</p>
      ) : (
        <>
          <div className="field">
            <label htmlFor="diff-with">Compare {env} with</label>
            <select id="diff-with" value={other ?? ''} onChange={(e) => setOther(e.target.value)}>
              {others.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </div>
          {diff.isPending && other ? <Loading what="both configurations" /> : null}
          <ErrorNote error={diff.error} />
          {d ? (
            <>
              <p className="small muted">
                gantry.yaml of {d.a.env} at <ShortSha sha={d.a.sha} />
                {d.a.running ? '' : ' (the head: it runs nothing)'}, of {d.b.env} at{' '}
                <ShortSha sha={d.b.sha} />
                {d.b.running ? '' : ' (the head: it runs nothing)'}.
              </p>
              {d.differences.length === 0 ? (
                <p>The two configurations are the same.</p>
              ) : (
                <div className="table-wrap">
                  <table data-testid="config-diff">
                    <caption className="sr-caption">
                      Keys that differ between {d.a.env} and {d.b.env}
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">Key</th>
                        <th scope="col">{d.a.env}</th>
                        <th scope="col">{d.b.env}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.differences.map((x) => (
                        <tr key={x.key}>
                          <th scope="row">
                            <code className="wrap">{x.key}</code>
                          </th>
                          <td className="wrap">{x.a ?? <span className="muted">not set</span>}</td>
                          <td className="wrap">{x.b ?? <span className="muted">not set</span>}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          ) : null}
        </>
      )}
    </section>
  );
}
