import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * The channel a schema's commits are announced on: `gantry_` and the md5 of the schema's name, as
 * the triggers of migration 023 compute it (channel names are identifiers: at most 63 bytes).
 */
export function clusterChannel(schema: string): string {
  return `gantry_${createHash('md5').update(schema).digest('hex')}`;
}

/**
 * A server's id for the life of its process: its connections carry it as `gantry.origin`, so the
 * events it appends name it. Letters, digits and `_` only (it goes into a connection option).
 */
export function newOrigin(): string {
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 24);
  return `${host}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * What a trigger of migration 023 announced (events, toggle revisions), or a server itself (a deploy
 * phase an agent reported to it, for the server running that deployment). `origin` is null for a
 * session without one (a script).
 */
export type ClusterMessage =
  | { kind: 'event'; origin: string | null; id: number }
  | { kind: 'revision'; origin: string | null; appId: string; env: string; revision: number }
  | { kind: 'phase'; origin: string | null; jobId: string; phase: string };

/** The payload announcing a host job's phase (see parseMessage). */
export function phaseMessage(origin: string, jobId: string, phase: string): string {
  return JSON.stringify(['p', origin, jobId, phase]);
}

/** The payload of a notification (a JSON array), or undefined when it is not one of ours. */
export function parseMessage(payload: string): ClusterMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  const origin = typeof v[1] === 'string' && v[1] !== '' ? v[1] : null;
  if (v[0] === 'e' && Number.isSafeInteger(v[2])) return { kind: 'event', origin, id: v[2] as number };
  if (v[0] === 'r' && typeof v[2] === 'string' && typeof v[3] === 'string' && Number.isSafeInteger(v[4]))
    return { kind: 'revision', origin, appId: v[2], env: v[3], revision: v[4] as number };
  if (v[0] === 'p' && typeof v[2] === 'string' && typeof v[3] === 'string')
    return { kind: 'phase', origin, jobId: v[2], phase: v[3] };
  return undefined;
}
