import { createHash } from 'node:crypto';
import type { ToggleService } from '../toggle-service.js';
import {
  type ClientFeature,
  type ClientSegment,
  type FeaturesForm,
  toClientFeatures,
  withNamePrefix,
} from './client-features.js';
import type { RevisionWatcher } from './revision-watcher.js';

/** One serialized `/api/client/features` answer. */
export interface FeaturesView {
  etag: string;
  /** Encoded once, so a request only copies bytes. */
  body: Buffer;
}

export interface FeaturesEntry extends FeaturesView {
  appId: string;
  env: string;
  form: FeaturesForm;
  revision: number;
  /**
   * Whether the data is exactly that revision's (no commit came in while it was read); only such
   * entries are a base for delta answers, since another server's entry of that revision may differ.
   */
  exact: boolean;
  features: ClientFeature[];
  segments: ClientSegment[];
  /** Answers for `namePrefix` queries, built on demand. */
  prefixed: Map<string, FeaturesView>;
}

const MAX_PREFIXES = 32;

/**
 * Serialized client-features bodies keyed by (app, environment, form), each labelled with the
 * revision read before its data, and rebuilt only when the watcher knows a newer revision. The
 * data is never older than its label, so a client never keeps stale toggles under a current ETag.
 */
export class ClientFeaturesCache {
  private readonly entries = new Map<string, FeaturesEntry>();
  private readonly building = new Map<string, Promise<FeaturesEntry>>();

  constructor(
    private readonly toggles: ToggleService,
    private readonly watcher: RevisionWatcher,
  ) {}

  /** The cached entry when it is current, without waiting. */
  fresh(appId: string, env: string, form: FeaturesForm): FeaturesEntry | undefined {
    if (!this.watcher.isReady()) return undefined;
    const e = this.entries.get(`${appId}\u0000${env}\u0000${form}`);
    return e && e.revision >= this.watcher.current(appId, env) ? e : undefined;
  }

  async get(appId: string, env: string, form: FeaturesForm): Promise<FeaturesEntry> {
    await this.watcher.ready();
    const cached = this.fresh(appId, env, form);
    if (cached) return cached;
    const key = `${appId}\u0000${env}\u0000${form}`;
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.build(appId, env, form).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    return pending;
  }

  private async build(appId: string, env: string, form: FeaturesForm): Promise<FeaturesEntry> {
    const store = this.toggles.readStore();
    const revision = await store.revision(appId, env);
    const [toggles, segments] = await Promise.all([store.list(appId), store.segments(appId)]);
    const exact = (await store.revision(appId, env)) === revision;
    const state = toClientFeatures(toggles, segments, env, form);
    const etag = `"${appId}:${env}:${revision}:${form}"`;
    const entry: FeaturesEntry = {
      appId,
      env,
      form,
      revision,
      exact,
      ...state,
      ...serialize(state, { env, form, revision, etag }),
      prefixed: new Map(),
    };
    const key = `${appId}\u0000${env}\u0000${form}`;
    const current = this.entries.get(key);
    if (!current || current.revision <= revision) this.entries.set(key, entry);
    return entry;
  }
}

/** The answer for a `namePrefix` query, cached on the entry. */
export function prefixedView(entry: FeaturesEntry, prefix: string): FeaturesView {
  const hit = entry.prefixed.get(prefix);
  if (hit) return hit;
  const hash = createHash('sha1').update(prefix).digest('hex').slice(0, 12);
  const etag = `"${entry.appId}:${entry.env}:${entry.revision}:${entry.form}:${hash}"`;
  const view = serialize(
    withNamePrefix(entry, prefix),
    { env: entry.env, form: entry.form, revision: entry.revision, etag },
    prefix,
  );
  if (entry.prefixed.size >= MAX_PREFIXES) entry.prefixed.clear();
  entry.prefixed.set(prefix, view);
  return view;
}

function serialize(
  state: { features: ClientFeature[]; segments: ClientSegment[] },
  q: { env: string; form: FeaturesForm; revision: number; etag: string },
  namePrefix?: string,
): FeaturesView {
  const inline = q.form === 'inline';
  const json = JSON.stringify({
    version: 2,
    features: state.features,
    ...(!inline && { segments: state.segments }),
    query: { environment: q.env, inlineSegmentConstraints: inline, ...(namePrefix && { namePrefix }) },
    meta: { revisionId: q.revision, etag: q.etag, queryHash: q.form },
  });
  return { etag: q.etag, body: Buffer.from(json) };
}
