import { buildStatuses, deploymentStatuses, deploymentTriggers } from '@gantry/contracts';
import { findNodeAtLocation, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { z } from 'zod';
import type { MetricsInput } from './engine/index.js';

/** ISO-8601 with a date, a time and a zone: `2024-01-01T09:00:00Z`, `…+02:00`. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const time = z.string().refine((s) => ISO.test(s) && !Number.isNaN(Date.parse(s)), {
  message: 'expected an ISO-8601 time with a zone, e.g. 2024-01-01T09:00:00Z',
});
const sha = z.string().regex(/^[0-9a-f]{4,64}$/, 'expected a hex commit SHA');
const id = z.string().min(1);

const schemas = {
  commits: z.object({
    sha,
    parents: z.array(sha),
    committedAt: time,
    message: z.string().optional(),
  }),
  deployments: z.object({
    id,
    app: id,
    env: id,
    sha,
    status: z.enum(deploymentStatuses),
    trigger: z.enum(deploymentTriggers),
    requestedAt: time,
    startedAt: time.nullable(),
    finishedAt: time.nullable(),
    remediates: id.optional(),
  }),
  incidents: z.object({
    id,
    app: id,
    env: id,
    deploymentId: id.optional(),
    openedAt: time,
    resolvedAt: time.nullable().optional(),
  }),
  builds: z.object({
    id,
    app: id,
    sha,
    status: z.enum(buildStatuses),
    queuedAt: time,
    startedAt: time.nullable(),
    finishedAt: time.nullable(),
    sloMs: z.number().int().positive().optional(),
  }),
  releases: z.object({ name: id, app: id.optional(), env: id, appliedAt: time }),
  toggleChanges: z.object({
    app: id,
    env: id,
    toggle: id,
    at: time,
    enabledBefore: z.boolean(),
    enabledAfter: z.boolean(),
    release: id.optional(),
  }),
} as const;

type Kind = keyof typeof schemas;
const KINDS = Object.keys(schemas) as Kind[];
const REQUIRED: Kind[] = ['commits', 'deployments'];

/** A file that cannot be used as it is; `problems` names each record at fault. */
export class EventsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, 20);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was computed:\n  ${shown.join('\n  ')}${more}\n` +
        'The format is described in docs/metrics.md ("Input format"); `gantry events export` writes it.',
    );
  }
}

/** Records the engine uses with a documented rule instead of failing (docs/metrics.md, "Bad input"). */
export interface EventsFileNotes {
  /** Incidents linked to a deployment the file does not have: treated as unlinked. */
  incidentsWithUnknownDeployment: string[];
  /** `remediates` naming a deployment the file does not have: the link is ignored. */
  unknownRemediates: string[];
}

type JsonPath = (string | number)[];

/** A problem, and where in the file it is: the field's value, else its record. */
interface Problem {
  text: string;
  path?: JsonPath;
}

/**
 * The problems as lines, each record's with ` (at line:column)` of the field (or of the record when the
 * field is missing). The file is parsed into a tree only here, when something is wrong.
 */
function located(text: string, problems: Problem[]): string[] {
  if (!problems.some((p) => p.path)) return problems.map((p) => p.text);
  const root = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
  return problems.map((p) => {
    if (!p.path || !root) return p.text;
    const node = findNodeAtLocation(root, p.path) ?? findNodeAtLocation(root, p.path.slice(0, 2));
    return node ? `${p.text} (at ${lineCol(text, node.offset)})` : p.text;
  });
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `${line}:${pos - before.lastIndexOf('\n')}`;
}

const label = (kind: Kind, i: number, record: unknown) => {
  const r = record as { id?: unknown; sha?: unknown; name?: unknown };
  const key =
    typeof r?.id === 'string'
      ? `id "${r.id}"`
      : typeof r?.sha === 'string'
        ? `sha ${r.sha}`
        : typeof r?.name === 'string'
          ? `name "${r.name}"`
          : null;
  return `${kind}[${i}]${key ? ` (${key})` : ''}`;
};

/**
 * Reads an events file (docs/metrics.md, "Input format"). Every problem is reported at once, each
 * naming its record; a file with any problem computes nothing, so a half-read history never passes
 * for a whole one.
 */
export function parseEventsFile(
  text: string,
  file = 'events file',
): { input: MetricsInput; notes: EventsFileNotes } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // JSON.parse does not always say where; jsonc-parser (strict options) finds the first error's offset.
    const errors: ParseError[] = [];
    parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
    const first = errors[0];
    const where = first ? ` at ${lineCol(text, first.offset)} (${printParseErrorCode(first.error)})` : '';
    throw new EventsFileError(file, [
      `not valid JSON${where}: ${e instanceof Error ? e.message : String(e)}`,
    ]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new EventsFileError(file, [`expected one JSON object with the lists ${KINDS.join(', ')}`]);
  const problems: Problem[] = [];
  const fail = () => new EventsFileError(file, located(text, problems));
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!KINDS.includes(key as Kind))
      problems.push({
        text: `unknown kind of event "${key}"; the kinds are ${KINDS.join(', ')}`,
        path: [key],
      });
  }
  const out: Record<string, unknown[]> = {};
  for (const kind of KINDS) {
    const list = obj[kind];
    if (list === undefined) {
      if (REQUIRED.includes(kind)) problems.push({ text: `missing "${kind}" (a list, possibly empty)` });
      out[kind] = [];
      continue;
    }
    if (!Array.isArray(list)) {
      problems.push({ text: `"${kind}" must be a list`, path: [kind] });
      continue;
    }
    out[kind] = [];
    list.forEach((record, i) => {
      const r = schemas[kind].safeParse(record);
      if (r.success) out[kind]!.push(r.data);
      else
        for (const issue of r.error.issues) {
          const field = issue.path.join('.') || '(record)';
          const missing =
            issue.path.length === 1 &&
            (record as Record<string, unknown>)?.[String(issue.path[0])] === undefined;
          problems.push({
            text: `${label(kind, i, record)}: ${field}: ${missing ? 'missing' : issue.message}`,
            path: [kind, i, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
          });
        }
    });
  }
  if (problems.length) throw fail();
  const input = out as unknown as Required<MetricsInput>;

  const unique = (kind: 'deployments' | 'incidents' | 'builds') => {
    const seen = new Map<string, number>();
    input[kind].forEach((r, i) => {
      const first = seen.get(r.id);
      if (first !== undefined)
        problems.push({
          text: `${kind}[${i}] (id "${r.id}"): the same id as ${kind}[${first}]`,
          path: [kind, i, 'id'],
        });
      else seen.set(r.id, i);
    });
  };
  unique('deployments');
  unique('incidents');
  unique('builds');
  const ordered = (
    kind: string,
    i: number,
    rid: string,
    pairs: [string, string | null | undefined, string, string | null | undefined][],
  ) => {
    for (const [an, a, bn, b] of pairs)
      if (a && b && Date.parse(b) < Date.parse(a))
        problems.push({
          text: `${kind}[${i}] (id "${rid}"): ${bn} (${b}) is before ${an} (${a})`,
          path: [kind, i, bn],
        });
  };
  input.deployments.forEach((d, i) => {
    ordered('deployments', i, d.id, [
      ['requestedAt', d.requestedAt, 'startedAt', d.startedAt],
      ['requestedAt', d.requestedAt, 'finishedAt', d.finishedAt],
      ['startedAt', d.startedAt, 'finishedAt', d.finishedAt],
    ]);
  });
  input.builds.forEach((b, i) => {
    ordered('builds', i, b.id, [
      ['queuedAt', b.queuedAt, 'startedAt', b.startedAt],
      ['startedAt', b.startedAt, 'finishedAt', b.finishedAt],
    ]);
  });
  // Time to restore and recovery would come out negative (docs/metrics.md, "Bad input").
  input.incidents.forEach((inc, i) => {
    ordered('incidents', i, inc.id, [['openedAt', inc.openedAt, 'resolvedAt', inc.resolvedAt]]);
  });
  if (problems.length) throw fail();

  const ids = new Set(input.deployments.map((d) => d.id));
  return {
    input,
    notes: {
      incidentsWithUnknownDeployment: input.incidents
        .filter((i) => i.deploymentId && !ids.has(i.deploymentId))
        .map((i) => i.id),
      unknownRemediates: input.deployments
        .filter((d) => d.remediates && !ids.has(d.remediates))
        .map((d) => d.id),
    },
  };
}
