import type { ReactNode } from 'react';

/** A labelled field with the server's errors for it beside it (announced and linked to the input). */
export function Field({
  id,
  label,
  hint,
  errors,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  errors?: string[];
  children: (props: { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode;
}) {
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : '', errors?.length ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(errors?.length ? { 'aria-invalid': true as const } : {}),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      })}
      {hint ? (
        <div className="hint" id={hintId}>
          {hint}
        </div>
      ) : null}
      {errors?.length ? (
        <div className="error" id={errorId} data-testid={`error-${id}`}>
          {errors.join('; ')}
        </div>
      ) : null}
    </div>
  );
}

/** Errors for a group of fields (a constraint, the variant list) that are about the group as a whole. */
export function GroupErrors({ id, errors }: { id: string; errors?: string[] }) {
  if (!errors?.length) return null;
  return (
    <div className="field">
      <div className="error" id={id} data-testid={`error-${id}`}>
        {errors.join('; ')}
      </div>
    </div>
  );
}
