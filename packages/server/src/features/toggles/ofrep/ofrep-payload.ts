import type { VariantPayload } from '../evaluator/index.js';

export type ParsedPayload = { ok: true; value: unknown } | { ok: false; error: string };

/** A variant payload as an OFREP value: `json` parsed, `number` a number, `string` and `csv` as they are. */
export function parsePayload(payload: VariantPayload): ParsedPayload {
  switch (payload.type) {
    case 'json':
      try {
        return { ok: true, value: JSON.parse(payload.value) };
      } catch {
        return { ok: false, error: 'its json payload is not valid JSON' };
      }
    case 'number': {
      const n = payload.value.trim() === '' ? Number.NaN : Number(payload.value);
      return Number.isFinite(n)
        ? { ok: true, value: n }
        : { ok: false, error: `its number payload ${JSON.stringify(payload.value)} is not a number` };
    }
    default:
      return { ok: true, value: payload.value };
  }
}
