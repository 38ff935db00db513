import { useState } from 'react';
import { Field, GroupErrors } from './field';
import { MULTI_VALUE, OPERATOR_LABEL, OPERATORS, STRATEGIES } from './strategy-words';
import type { Constraint, Segment, Strategy } from './toggle-api';

type Errors = Map<string, string[]>;

/** A stored strategy as the PUT body takes it: only the fields the server's schema knows. */
export function strategyInput(s: Strategy): Strategy {
  return {
    name: s.name,
    parameters: { ...(s.parameters ?? {}) },
    constraints: (s.constraints ?? []).map((c) => ({
      contextName: c.contextName,
      operator: c.operator,
      ...(c.values !== undefined && { values: c.values }),
      ...(c.value !== undefined && { value: c.value }),
      ...(c.caseInsensitive !== undefined && { caseInsensitive: c.caseInsensitive }),
      ...(c.inverted !== undefined && { inverted: c.inverted }),
    })),
    ...(s.segments?.length ? { segments: s.segments } : {}),
    ...(s.variants?.length ? { variants: s.variants } : {}),
    ...(s.disabled !== undefined && { disabled: s.disabled }),
  };
}

/** The keys of the fields the editor shows for these strategies (where errors can be placed). */
export function strategyFieldKeys(strategies: Strategy[]): string[] {
  return strategies.flatMap((s, i) => {
    const at = `strategies.${i}`;
    const def = STRATEGIES.find((d) => d.name === s.name);
    return [
      at,
      `${at}.name`,
      `${at}.segments`,
      `${at}.variants`,
      ...(def?.params ?? []).map((p) => `${at}.parameters.${p.key}`),
      ...(s.constraints ?? []).map((_, j) => `${at}.constraints.${j}`),
    ];
  });
}

const splitList = (text: string) =>
  text
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** A comma-separated list, kept as typed (a trailing comma stays) while its values go up. */
function ListInput({
  value,
  onChange,
  ...rest
}: {
  value: string[];
  onChange: (v: string[]) => void;
  id: string;
  disabled: boolean;
}) {
  const [text, setText] = useState(value.join(', '));
  return (
    <input
      {...rest}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onChange(splitList(e.target.value));
      }}
    />
  );
}

function ConstraintEditor({
  c,
  at,
  id,
  errors,
  onChange,
  onRemove,
  disabled,
}: {
  c: Constraint;
  at: string;
  id: string;
  errors: Errors;
  onChange: (c: Constraint) => void;
  onRemove: () => void;
  disabled: boolean;
}) {
  const multi = MULTI_VALUE.includes(c.operator);
  return (
    <fieldset className="toggle-constraint" aria-invalid={errors.has(at) || undefined}>
      <legend>Constraint</legend>
      <div className="toggle-grid">
        <Field id={`${id}-context`} label="Context field" hint="userId, environment, appName, or your own">
          {(p) => (
            <input
              {...p}
              value={c.contextName}
              disabled={disabled}
              onChange={(e) => onChange({ ...c, contextName: e.target.value })}
            />
          )}
        </Field>
        <Field id={`${id}-operator`} label="Operator">
          {(p) => (
            <select
              {...p}
              value={c.operator}
              disabled={disabled}
              onChange={(e) => {
                const operator = e.target.value as Constraint['operator'];
                const list = c.values ?? (c.value ? [c.value] : []);
                onChange(
                  MULTI_VALUE.includes(operator)
                    ? { ...c, operator, values: list, value: undefined }
                    : { ...c, operator, value: list[0] ?? c.value ?? '', values: undefined },
                );
              }}
            >
              {OPERATORS.map((o) => (
                <option key={o} value={o}>
                  {OPERATOR_LABEL[o]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          id={`${id}-values`}
          label={multi ? 'Values' : 'Value'}
          hint={multi ? 'Comma-separated' : undefined}
          errors={errors.get(at)}
        >
          {(p) =>
            multi ? (
              <ListInput
                {...p}
                value={c.values ?? []}
                disabled={disabled}
                onChange={(values) => onChange({ ...c, values })}
              />
            ) : (
              <input
                {...p}
                value={c.value ?? ''}
                disabled={disabled}
                onChange={(e) => onChange({ ...c, value: e.target.value })}
              />
            )
          }
        </Field>
      </div>
      <div className="row small">
        <label className="inline">
          <input
            type="checkbox"
            checked={!!c.inverted}
            disabled={disabled}
            onChange={(e) => onChange({ ...c, inverted: e.target.checked })}
          />{' '}
          Invert (match when it does not hold)
        </label>
        <label className="inline">
          <input
            type="checkbox"
            checked={!!c.caseInsensitive}
            disabled={disabled}
            onChange={(e) => onChange({ ...c, caseInsensitive: e.target.checked })}
          />{' '}
          Ignore case
        </label>
        <button type="button" onClick={onRemove} disabled={disabled}>
          Remove constraint
        </button>
      </div>
    </fieldset>
  );
}

function StrategyEditor({
  s,
  i,
  idPrefix,
  segments,
  errors,
  groupId,
  onChange,
  onRemove,
  disabled,
}: {
  s: Strategy;
  i: number;
  idPrefix: string;
  segments: Segment[];
  errors: Errors;
  groupId: string;
  onChange: (s: Strategy) => void;
  onRemove: () => void;
  disabled: boolean;
}) {
  const at = `strategies.${i}`;
  const id = `${idPrefix}-s${i}`;
  const def = STRATEGIES.find((d) => d.name === s.name);
  const params = s.parameters ?? {};
  const constraints = s.constraints ?? [];
  return (
    <fieldset className="panel toggle-strategy">
      <legend>Strategy {i + 1}</legend>
      <GroupErrors id={`${id}-errors`} errors={errors.get(at)} />
      <Field id={`${id}-name`} label="Who gets it" errors={errors.get(`${at}.name`)}>
        {(p) => (
          <select
            {...p}
            value={s.name}
            disabled={disabled}
            onChange={(e) => {
              const name = e.target.value as Strategy['name'];
              const keep = STRATEGIES.find((d) => d.name === name)?.params.map((x) => x.key) ?? [];
              const parameters = Object.fromEntries(Object.entries(params).filter(([k]) => keep.includes(k)));
              if (name === 'flexibleRollout') {
                parameters.rollout ??= '100';
                parameters.stickiness ??= 'default';
                parameters.groupId ??= groupId;
              }
              onChange({ ...s, name, parameters });
            }}
          >
            {STRATEGIES.map((d) => (
              <option key={d.name} value={d.name}>
                {d.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="toggle-grid">
        {(def?.params ?? []).map((param) => (
          <Field
            key={param.key}
            id={`${id}-${param.key}`}
            label={param.label}
            hint={param.hint}
            errors={errors.get(`${at}.parameters.${param.key}`)}
          >
            {(p) => (
              <input
                {...p}
                inputMode={param.key === 'rollout' || param.key === 'percentage' ? 'numeric' : undefined}
                value={params[param.key] ?? ''}
                disabled={disabled}
                onChange={(e) => onChange({ ...s, parameters: { ...params, [param.key]: e.target.value } })}
              />
            )}
          </Field>
        ))}
      </div>
      {constraints.map((c, j) => (
        <ConstraintEditor
          key={j}
          c={c}
          at={`${at}.constraints.${j}`}
          id={`${id}-c${j}`}
          errors={errors}
          disabled={disabled}
          onChange={(nc) => onChange({ ...s, constraints: constraints.map((x, k) => (k === j ? nc : x)) })}
          onRemove={() => onChange({ ...s, constraints: constraints.filter((_, k) => k !== j) })}
        />
      ))}
      {segments.length ? (
        <fieldset
          className="toggle-segments"
          aria-describedby={errors.has(`${at}.segments`) ? `${id}-seg-error` : undefined}
        >
          <legend>Segments (users must be in every one ticked)</legend>
          <div className="row">
            {segments.map((seg) => (
              <label key={seg.id} className="inline">
                <input
                  type="checkbox"
                  checked={s.segments?.includes(seg.id) ?? false}
                  disabled={disabled}
                  onChange={(e) => {
                    const others = (s.segments ?? []).filter((x) => x !== seg.id);
                    onChange({ ...s, segments: e.target.checked ? [...others, seg.id] : others });
                  }}
                />{' '}
                {seg.name}
              </label>
            ))}
          </div>
        </fieldset>
      ) : null}
      <GroupErrors id={`${id}-seg-error`} errors={errors.get(`${at}.segments`)} />
      <GroupErrors id={`${id}-variants-error`} errors={errors.get(`${at}.variants`)} />
      <div className="row">
        <button
          type="button"
          disabled={disabled}
          onClick={() =>
            onChange({
              ...s,
              constraints: [...constraints, { contextName: 'userId', operator: 'IN', values: [] }],
            })
          }
        >
          Add constraint
        </button>
        <button type="button" className="danger" disabled={disabled} onClick={onRemove}>
          Remove strategy {i + 1}
        </button>
      </div>
    </fieldset>
  );
}

/** The strategies of a toggle in one environment: who gets it when it is on (none: everyone). */
export function StrategiesEditor({
  value,
  onChange,
  segments,
  errors,
  idPrefix,
  groupId,
  disabled = false,
}: {
  value: Strategy[];
  onChange: (v: Strategy[]) => void;
  segments: Segment[];
  errors: Errors;
  idPrefix: string;
  /** A new gradual rollout's group (the toggle's name, as `gantry toggles rollout` sets it). */
  groupId: string;
  disabled?: boolean;
}) {
  return (
    <div className="stack">
      {value.length === 0 ? (
        <p className="muted small">No strategy: when it is on, everyone gets it.</p>
      ) : null}
      {value.map((s, i) => (
        <StrategyEditor
          key={i}
          s={s}
          i={i}
          idPrefix={idPrefix}
          segments={segments}
          errors={errors}
          groupId={groupId}
          disabled={disabled}
          onChange={(ns) => onChange(value.map((x, k) => (k === i ? ns : x)))}
          onRemove={() => onChange(value.filter((_, k) => k !== i))}
        />
      ))}
      <button
        type="button"
        disabled={disabled}
        onClick={() =>
          onChange([
            ...value,
            {
              name: 'flexibleRollout',
              parameters: { rollout: '100', stickiness: 'default', groupId },
              constraints: [],
            },
          ])
        }
      >
        Add strategy
      </button>
    </div>
  );
}
