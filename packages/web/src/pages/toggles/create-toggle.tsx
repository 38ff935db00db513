import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useLocation } from 'wouter';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import { ErrorNote } from '../../components/ui';
import { Field } from './field';
import { fieldErrors, placeErrors } from './field-errors';
import { TOGGLE_TYPES, type ToggleType, togglePath } from './toggle-api';

/** Creates a toggle (off in every environment) and opens it. */
export function CreateToggle({ app }: { app: string }) {
  const session = useSession();
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [type, setType] = useState<ToggleType>('release');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/apps/{app}/toggles', {
          params: { path: { app } },
          body: { name: name.trim(), type, description },
        }),
      ),
    onSuccess: (t) => {
      void qc.invalidateQueries({ queryKey: ['toggles', app] });
      navigate(togglePath(app, t.name));
    },
  });
  if (!session.can('toggles:define')) return null;
  const { at, rest } = placeErrors(fieldErrors(create.error), ['name', 'type', 'description']);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <details className="panel" open={create.isError || undefined}>
      <summary>Create a toggle</summary>
      <form onSubmit={submit} noValidate className="toggle-grid" style={{ marginTop: '0.5rem' }}>
        <Field
          id="new-toggle-name"
          label="Name"
          hint="Letters, digits, “.”, “_” and “-”"
          errors={at.get('name')}
        >
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field id="new-toggle-type" label="Type">
          {(p) => (
            <select {...p} value={type} onChange={(e) => setType(e.target.value as ToggleType)}>
              {TOGGLE_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          )}
        </Field>
        <Field id="new-toggle-description" label="Description" errors={at.get('description')}>
          {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <div className="field" style={{ alignSelf: 'end' }}>
          <button type="submit" className="primary" disabled={create.isPending || !name.trim()}>
            {create.isPending ? 'Creating…' : 'Create toggle'}
          </button>
        </div>
      </form>
      {rest.length ? <ErrorNote error={rest.join('; ')} /> : null}
    </details>
  );
}
