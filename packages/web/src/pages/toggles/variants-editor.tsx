import { Field, GroupErrors } from './field';
import type { Variant } from './toggle-api';

type Errors = Map<string, string[]>;
type PayloadType = NonNullable<Variant['payload']>['type'];
const PAYLOAD_TYPES: PayloadType[] = ['string', 'json', 'csv', 'number'];

/** A stored variant as the PUT body takes it: only the fields the server's schema knows. */
export function variantInput(v: Variant): Variant {
  return {
    name: v.name,
    weight: v.weight,
    weightType: v.weightType ?? 'variable',
    stickiness: v.stickiness ?? 'default',
    ...(v.payload && { payload: { type: v.payload.type, value: v.payload.value } }),
    ...(v.overrides?.length && { overrides: v.overrides }),
  };
}

export function variantFieldKeys(variants: Variant[]): string[] {
  return [
    'variants',
    ...variants.flatMap((_, i) => [
      `variants.${i}`,
      `variants.${i}.name`,
      `variants.${i}.weight`,
      `variants.${i}.payload`,
    ]),
  ];
}

/**
 * Variants: what an SDK's getVariant answers. Weights share 1000 units; a fixed weight is kept, the
 * variable ones share the rest.
 */
export function VariantsEditor({
  value,
  onChange,
  errors,
  idPrefix,
  disabled = false,
}: {
  value: Variant[];
  onChange: (v: Variant[]) => void;
  errors: Errors;
  idPrefix: string;
  disabled?: boolean;
}) {
  const set = (i: number, v: Variant) => onChange(value.map((x, k) => (k === i ? v : x)));
  return (
    <div className="stack">
      <GroupErrors id={`${idPrefix}-variants-error`} errors={errors.get('variants')} />
      {value.length === 0 ? <p className="muted small">No variants.</p> : null}
      {value.map((v, i) => {
        const id = `${idPrefix}-v${i}`;
        const at = `variants.${i}`;
        return (
          <fieldset key={i} className="panel toggle-variant">
            <legend>Variant {i + 1}</legend>
            <GroupErrors id={`${id}-errors`} errors={errors.get(at)} />
            <div className="toggle-grid">
              <Field id={`${id}-name`} label="Name" errors={errors.get(`${at}.name`)}>
                {(p) => (
                  <input
                    {...p}
                    value={v.name}
                    disabled={disabled}
                    onChange={(e) => set(i, { ...v, name: e.target.value })}
                  />
                )}
              </Field>
              <Field
                id={`${id}-weight`}
                label="Weight"
                hint="Out of 1000"
                errors={errors.get(`${at}.weight`)}
              >
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={Number.isNaN(v.weight) ? '' : String(v.weight)}
                    disabled={disabled}
                    onChange={(e) =>
                      set(i, { ...v, weight: e.target.value === '' ? Number.NaN : Number(e.target.value) })
                    }
                  />
                )}
              </Field>
              <Field id={`${id}-weight-type`} label="Weight is">
                {(p) => (
                  <select
                    {...p}
                    value={v.weightType ?? 'variable'}
                    disabled={disabled}
                    onChange={(e) => set(i, { ...v, weightType: e.target.value as 'variable' | 'fix' })}
                  >
                    <option value="variable">shared with the others</option>
                    <option value="fix">fixed</option>
                  </select>
                )}
              </Field>
              <Field id={`${id}-payload-type`} label="Payload type">
                {(p) => (
                  <select
                    {...p}
                    value={v.payload?.type ?? ''}
                    disabled={disabled}
                    onChange={(e) => {
                      const type = e.target.value as PayloadType | '';
                      const { payload: _, ...rest } = v;
                      set(i, type ? { ...rest, payload: { type, value: v.payload?.value ?? '' } } : rest);
                    }}
                  >
                    <option value="">none</option>
                    {PAYLOAD_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
            {v.payload ? (
              <Field id={`${id}-payload`} label="Payload" errors={errors.get(`${at}.payload`)}>
                {(p) => (
                  <textarea
                    {...p}
                    rows={2}
                    value={v.payload?.value ?? ''}
                    disabled={disabled}
                    onChange={(e) =>
                      set(i, { ...v, payload: { type: v.payload?.type ?? 'string', value: e.target.value } })
                    }
                  />
                )}
              </Field>
            ) : null}
            <button
              type="button"
              className="danger"
              disabled={disabled}
              onClick={() => onChange(value.filter((_, k) => k !== i))}
            >
              Remove variant {i + 1}
            </button>
          </fieldset>
        );
      })}
      <button
        type="button"
        disabled={disabled}
        onClick={() =>
          onChange([
            ...value,
            {
              name: `variant-${value.length + 1}`,
              weight: 1000,
              weightType: 'variable',
              stickiness: 'default',
            },
          ])
        }
      >
        Add variant
      </button>
    </div>
  );
}
