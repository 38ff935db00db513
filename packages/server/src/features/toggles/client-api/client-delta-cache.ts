import { createHash } from 'node:crypto';
import { withNamePrefix } from './client-features.js';
import type { FeaturesEntry } from './client-features-cache.js';
import { deltaEvents, hydration } from './delta-events.js';

/** What `GET /api/client/delta` answers: a body, or nothing (304) when the SDK is current. */
export interface DeltaAnswer {
  etag: string;
  kind: 'not-modified' | 'hydration' | 'delta';
  body: Buffer | null;
}

/** Revisions per (app, environment, form) an SDK can get incremental events from. */
export const DELTA_HISTORY = 20;
const MAX_ANSWERS = 64;

const TAG = /^"(.*):(\d+):(segments|inline)(?::([0-9a-f]{12}))?:(delta~?)"$/;

/**
 * Unleash's delta format (`experimentalMode: { type: 'polling', format: 'delta' }`). The ETag names
 * the revision the SDK holds: the same revision is a 304, a revision this server built exactly
 * within its last {@link DELTA_HISTORY} gets only the events since, anything else (no ETag, another
 * app's, an older or unknown revision, one built while a change came in) gets a hydration.
 */
export class ClientDeltaCache {
  private readonly history = new Map<string, FeaturesEntry[]>();
  private readonly answers = new WeakMap<FeaturesEntry, Map<string, DeltaAnswer>>();

  answer(entry: FeaturesEntry, ifNoneMatch: string | string[] | undefined, prefix?: string): DeltaAnswer {
    this.remember(entry);
    const hash = prefix ? createHash('sha1').update(prefix).digest('hex').slice(0, 12) : undefined;
    const etag = deltaEtag(entry, hash);
    const held = parseHeld(ifNoneMatch, entry, hash);
    if (held && (held.tag === etag || held.revision > entry.revision))
      return { etag, kind: 'not-modified', body: null };
    const base = held?.exact ? this.base(entry, held.revision) : undefined;
    const key = base ? `${base.revision}\u0000${prefix ?? ''}` : `h\u0000${prefix ?? ''}`;
    let cached = this.answers.get(entry);
    if (!cached) {
      cached = new Map();
      this.answers.set(entry, cached);
    }
    const hit = cached.get(key);
    if (hit) return hit;
    const to = prefix ? withNamePrefix(entry, prefix) : entry;
    const events = base
      ? deltaEvents(
          { revision: base.revision, ...(prefix ? withNamePrefix(base, prefix) : base) },
          { revision: entry.revision, ...to },
        )
      : [hydration({ revision: entry.revision, ...to })];
    const answer: DeltaAnswer = {
      etag,
      kind: base ? 'delta' : 'hydration',
      body: Buffer.from(JSON.stringify({ events })),
    };
    if (cached.size >= MAX_ANSWERS) cached.clear();
    cached.set(key, answer);
    return answer;
  }

  private remember(entry: FeaturesEntry): void {
    if (!entry.exact) return;
    const key = `${entry.appId}\u0000${entry.env}\u0000${entry.form}`;
    const list = this.history.get(key) ?? [];
    if (list.some((e) => e.revision === entry.revision)) return;
    list.push(entry);
    list.sort((a, b) => a.revision - b.revision);
    if (list.length > DELTA_HISTORY) list.splice(0, list.length - DELTA_HISTORY);
    this.history.set(key, list);
  }

  private base(entry: FeaturesEntry, revision: number): FeaturesEntry | undefined {
    if (revision >= entry.revision) return undefined;
    return this.history
      .get(`${entry.appId}\u0000${entry.env}\u0000${entry.form}`)
      ?.find((e) => e.revision === revision);
  }
}

/** `"<app>:<env>:<revision>:<form>[:<prefix hash>]:delta"`; `delta~` when the data may be newer. */
function deltaEtag(entry: FeaturesEntry, hash: string | undefined): string {
  const prefix = hash ? `:${hash}` : '';
  const mark = entry.exact ? 'delta' : 'delta~';
  return `"${entry.appId}:${entry.env}:${entry.revision}:${entry.form}${prefix}:${mark}"`;
}

/** The revision an SDK says it holds, when its ETag is one of ours for the same query. */
function parseHeld(
  header: string | string[] | undefined,
  entry: FeaturesEntry,
  hash: string | undefined,
): { tag: string; revision: number; exact: boolean } | undefined {
  if (typeof header !== 'string') return undefined;
  const tag = header.trim().replace(/^W\//, '');
  const m = TAG.exec(tag);
  if (!m || m[1] !== `${entry.appId}:${entry.env}` || m[3] !== entry.form || m[4] !== hash) return undefined;
  const revision = Number(m[2]);
  if (!Number.isSafeInteger(revision)) return undefined;
  return { tag, revision, exact: m[5] === 'delta' };
}
