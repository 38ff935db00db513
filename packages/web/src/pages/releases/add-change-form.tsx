import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ok } from '../../api/client';
import type { BodyOf } from '../../api/types';
import { ErrorNote } from '../../components/ui';
import { Field } from '../toggles/field';
import { fieldErrors, placeErrors } from '../toggles/field-errors';
import { useApps, useToggleEnvironments, useToggles } from '../toggles/toggle-api';

type Change = BodyOf<'/api/releases/{name}/changes', 'post'>['change'];
type Turn = '' | 'on' | 'off';
type Who = '' | 'everyone' | 'rollout' | 'users';

/** What the form's choices make: only what was chosen is changed, the rest stays as it is. */
export function changeOf(turn: Turn, who: Who, rollout: string, users: string): Change {
  const change: Change = {};
  if (turn) change.enabled = turn === 'on';
  if (who === 'everyone') change.strategies = [{ name: 'default', parameters: {}, constraints: [] }];
  if (who === 'rollout') change.rollout = rollout.trim() === '' ? Number.NaN : Number(rollout);
  if (who === 'users')
    change.strategies = [{ name: 'userWithId', parameters: { userIds: users }, constraints: [] }];
  return change;
}

/** Adds one toggle change (app, toggle, environment; on/off and/or who gets it) to a release. */
export function AddChangeForm({ release }: { release: string }) {
  const qc = useQueryClient();
  const apps = useApps();
  const [app, setApp] = useState('');
  const chosenApp = app || apps.data?.[0]?.name || '';
  const toggles = useToggles(chosenApp);
  const envs = useToggleEnvironments(chosenApp);
  const [toggle, setToggle] = useState('');
  const [env, setEnv] = useState('');
  const [turn, setTurn] = useState<Turn>('on');
  const [who, setWho] = useState<Who>('');
  const [rollout, setRollout] = useState('');
  const [users, setUsers] = useState('');
  const chosenToggle = toggle || toggles.data?.[0]?.name || '';
  const chosenEnv = env || envs.data?.[envs.data.length - 1] || '';
  const add = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/releases/{name}/changes', {
          params: { path: { name: release } },
          body: {
            app: chosenApp,
            toggle: chosenToggle,
            env: chosenEnv,
            change: changeOf(turn, who, rollout, users),
          },
        }),
      ),
    onSuccess: (r) => {
      qc.setQueryData(['release', release], r);
      setWho('');
      setRollout('');
      setUsers('');
    },
  });
  const { at, rest } = placeErrors(fieldErrors(add.error), [
    'app',
    'toggle',
    'env',
    'change.enabled',
    'change.rollout',
    'change.strategies',
  ]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  if (apps.data?.length === 0)
    return <p className="muted">No app yet: a release changes an app’s toggles.</p>;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="add-change">
      <h3 id="add-change">Add a change</h3>
      <div className="release-grid">
        <Field id="change-app" label="App" errors={at.get('app')}>
          {(p) => (
            <select
              {...p}
              value={chosenApp}
              onChange={(e) => {
                setApp(e.target.value);
                setToggle('');
                setEnv('');
              }}
            >
              {apps.data?.map((a) => (
                <option key={a.name}>{a.name}</option>
              ))}
            </select>
          )}
        </Field>
        <Field
          id="change-toggle"
          label="Toggle"
          errors={at.get('toggle')}
          hint={toggles.data?.length === 0 ? 'This app has no toggle yet' : undefined}
        >
          {(p) => (
            <select {...p} value={chosenToggle} onChange={(e) => setToggle(e.target.value)}>
              {toggles.data?.map((t) => (
                <option key={t.name}>{t.name}</option>
              ))}
            </select>
          )}
        </Field>
        <Field id="change-env" label="Environment" errors={at.get('env')}>
          {(p) => (
            <select {...p} value={chosenEnv} onChange={(e) => setEnv(e.target.value)}>
              {envs.data?.map((x) => (
                <option key={x}>{x}</option>
              ))}
            </select>
          )}
        </Field>
        <Field id="change-turn" label="Turn it" errors={at.get('change.enabled')}>
          {(p) => (
            <select {...p} value={turn} onChange={(e) => setTurn(e.target.value as Turn)}>
              <option value="on">on</option>
              <option value="off">off</option>
              <option value="">leave as it is</option>
            </select>
          )}
        </Field>
        <Field id="change-who" label="Who gets it" errors={at.get('change.strategies')}>
          {(p) => (
            <select {...p} value={who} onChange={(e) => setWho(e.target.value as Who)}>
              <option value="">leave as it is</option>
              <option value="everyone">everyone</option>
              <option value="rollout">a share of users (gradual rollout)</option>
              <option value="users">only some users</option>
            </select>
          )}
        </Field>
        {who === 'rollout' ? (
          <Field
            id="change-rollout"
            label="Share of users %"
            hint="0 to 100"
            errors={at.get('change.rollout')}
          >
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                value={rollout}
                onChange={(e) => setRollout(e.target.value)}
              />
            )}
          </Field>
        ) : null}
        {who === 'users' ? (
          <Field id="change-users" label="User ids" hint="Comma-separated">
            {(p) => <input {...p} value={users} onChange={(e) => setUsers(e.target.value)} />}
          </Field>
        ) : null}
      </div>
      {rest.length ? <ErrorNote error={rest.join('; ')} /> : null}
      <button type="submit" disabled={add.isPending || !chosenToggle || !chosenEnv}>
        {add.isPending ? 'Adding…' : 'Add change'}
      </button>
    </form>
  );
}
