import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { api, ok } from '../../api/client';
import { useSession } from '../../api/session';
import { ErrorNote } from '../../components/ui';
import { Field } from '../toggles/field';
import { fieldErrors, placeErrors } from '../toggles/field-errors';
import { releasePath } from './release-api';
import './releases.css';

/** Starts a release: its name and its notes for stakeholders; its changes are added on its page. */
export function ReleaseNewPage() {
  const session = useSession();
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [notes, setNotes] = useState('');
  const create = useMutation({
    mutationFn: () => ok(api.POST('/api/releases', { body: { name: name.trim(), notes } })),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['releases'] });
      navigate(releasePath(r.name));
    },
  });
  const { at, rest } = placeErrors(fieldErrors(create.error), ['name', 'notes']);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <p className="small">
        <Link href="/releases">Releases</Link> / new
      </p>
      <h1>New release</h1>
      {session.can('releases:write') ? (
        <form className="panel release-form" onSubmit={submit} noValidate>
          <Field
            id="release-name"
            label="Name"
            hint="Letters, digits, “.”, “_” and “-”, e.g. spring-checkout"
            errors={at.get('name')}
          >
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field
            id="release-notes"
            label="Notes for stakeholders"
            hint="What people will notice; shown as you write it"
            errors={at.get('notes')}
          >
            {(p) => <textarea {...p} rows={6} value={notes} onChange={(e) => setNotes(e.target.value)} />}
          </Field>
          {rest.length ? <ErrorNote error={rest.join('; ')} /> : null}
          <button type="submit" className="primary" disabled={create.isPending || !name.trim()}>
            {create.isPending ? 'Creating…' : 'Create release'}
          </button>
        </form>
      ) : (
        <p className="notice">You may not create releases (needs releases:write).</p>
      )}
    </>
  );
}
