import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useSession } from '../../api/session';
import { ErrorNote } from '../../components/ui';
import { fieldErrors, placeErrors } from './field-errors';
import { StrategiesEditor, strategyFieldKeys, strategyInput } from './strategies-editor';
import {
  envOf,
  type Segment,
  type Strategy,
  setEnvironment,
  type ToggleEnv,
  type Variant,
} from './toggle-api';
import { VariantsEditor, variantFieldKeys, variantInput } from './variants-editor';

/**
 * A toggle's strategies and variants in one environment, saved together (PUT …/environments/:env).
 * The server checks them; each of its errors is shown beside the field it is about.
 */
export function EnvEditor({
  app,
  name,
  state,
  segments,
}: {
  app: string;
  name: string;
  state: ToggleEnv;
  segments: Segment[];
}) {
  const session = useSession();
  const qc = useQueryClient();
  const initial = (from: ToggleEnv = state) => ({
    strategies: from.strategies.map((s) => strategyInput(s as Strategy)),
    variants: from.variants.map((v) => variantInput(v as Variant)),
  });
  const [draft, setDraft] = useState(initial);
  const [savedAt, setSavedAt] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => setEnvironment(app, name, state.env, draft),
    onMutate: () => setSavedAt(null),
    onSuccess: (t) => {
      qc.setQueryData(['toggle', app, name], t);
      void qc.invalidateQueries({ queryKey: ['toggles', app] });
      setDraft(initial(envOf(t, state.env)));
      setSavedAt(new Date().toLocaleTimeString());
    },
  });
  const canWrite = session.can('toggles:write');
  const disabled = !canWrite || save.isPending;
  const { at, rest } = placeErrors(fieldErrors(save.error), [
    ...strategyFieldKeys(draft.strategies),
    ...variantFieldKeys(draft.variants),
  ]);
  const dirty = JSON.stringify(draft) !== JSON.stringify(initial());
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const id = `env-${state.env}`;
  return (
    <form
      className="toggle-editor stack"
      onSubmit={submit}
      noValidate
      aria-label={`Strategies and variants in ${state.env}`}
    >
      <section aria-labelledby={`${id}-strategies`}>
        <h3 id={`${id}-strategies`}>Strategies in {state.env}</h3>
        <StrategiesEditor
          value={draft.strategies}
          onChange={(strategies) => setDraft({ ...draft, strategies })}
          segments={segments}
          errors={at}
          idPrefix={id}
          groupId={name}
          disabled={disabled}
        />
      </section>
      <section aria-labelledby={`${id}-variants`}>
        <h3 id={`${id}-variants`}>Variants in {state.env}</h3>
        <VariantsEditor
          value={draft.variants}
          onChange={(variants) => setDraft({ ...draft, variants })}
          errors={at}
          idPrefix={id}
          disabled={disabled}
        />
      </section>
      {rest.length ? <ErrorNote error={rest.join('; ')} /> : null}
      {save.isError && !rest.length ? (
        <p className="alert" role="alert">
          Not saved: see the message beside the field.
        </p>
      ) : null}
      {canWrite ? (
        <div className="row">
          <button type="submit" className="primary" disabled={disabled}>
            {save.isPending ? 'Saving…' : `Save ${state.env}`}
          </button>
          <button
            type="button"
            disabled={disabled || !dirty}
            onClick={() => {
              save.reset();
              setDraft(initial());
            }}
          >
            Discard changes
          </button>
          {savedAt && !dirty ? (
            <span role="status" className="small">
              Saved at {savedAt}
            </span>
          ) : null}
        </div>
      ) : (
        <p className="muted small">You may look but not change toggles (needs toggles:write).</p>
      )}
    </form>
  );
}
