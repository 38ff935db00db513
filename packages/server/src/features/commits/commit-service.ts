import type { Commit } from '@gantry/contracts';
import type { EventStore } from '../../events/event-store.js';
import type { RepoMirror } from '../../git/repo-mirror.js';
import { KeyedMutex } from '../../lib/keyed-mutex.js';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { BuildService } from '../builds/build-service.js';
import type { CommitStore, Push } from './commit-store.js';

export type TagHandler = (
  app: AppRecord,
  mirror: RepoMirror,
  head: string | null,
  initial: boolean,
) => Promise<unknown>;

export type PushSource = 'hook' | 'webhook' | 'poll' | 'manual';

export interface IngestResult {
  push?: Push;
  newCommits: string[];
  buildIds: string[];
}

/**
 * Sees new commits on an app's branch: fetches the mirror, records every new commit and the push
 * (force-pushes included), then asks the build service to build. Hooks, webhooks and the poller
 * all come through here, so a push seen three ways is recorded once.
 */
export class CommitService {
  private readonly mutex = new KeyedMutex();
  private tagHandlers: TagHandler[] = [];

  constructor(
    private readonly apps: AppService,
    private readonly commits: CommitStore,
    private readonly events: EventStore,
    private readonly builds: BuildService,
  ) {}

  /** Called after every fetch, before branch commits are recorded (deploy tags). */
  onTags(handler: TagHandler): void {
    this.tagHandlers.push(handler);
  }

  ingest(app: AppRecord, source: PushSource, actor: string): Promise<IngestResult> {
    return this.mutex.run(app.id, () => this.ingestLocked(app.id, source, actor));
  }

  private async ingestLocked(appId: string, source: PushSource, actor: string): Promise<IngestResult> {
    const app = await this.apps.getById(appId);
    const mirror = this.apps.mirrorOf(app);
    await mirror.fetch();
    const head = await mirror.headOf();
    for (const handler of this.tagHandlers) {
      await handler(app, mirror, head ?? app.headSha, app.headSha === null).catch((err: unknown) => {
        throw new Error(`reading deploy tags failed: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    if (!head || head === app.headSha) return { newCommits: [], buildIds: [] };

    const old = app.headSha;
    // An old head that is gone or not an ancestor of the new one means main was rewritten.
    const forced = old !== null && !(await mirror.isAncestor(old, head).catch(() => false));
    const dropped = forced && old ? await mirror.droppedCommits(old, head).catch(() => [old]) : [];
    const infos = await mirror.newCommits(old, head);

    const push = await this.commits.recordPush({
      appId,
      ref: `refs/heads/${app.branch}`,
      beforeSha: old,
      afterSha: head,
      forced,
      source,
      commitCount: infos.length,
      dropped,
    });
    const fresh = await this.commits.insertMany(
      infos.map(
        (c): Omit<Commit, 'seenAt'> => ({
          appId,
          sha: c.sha,
          parents: c.parents,
          authorName: c.authorName,
          authorEmail: c.authorEmail,
          authoredAt: c.authoredAt,
          committedAt: c.committedAt,
          message: c.message,
          pushId: push.id,
        }),
      ),
    );
    if (!(await this.apps.moveHead(app.id, old, head))) {
      // Another server moved the head first; its push record covers the same commits.
      return { push, newCommits: fresh, buildIds: [] };
    }
    await this.events.append({
      type: 'push.received',
      appId,
      subject: push.id,
      actor,
      data: { ref: push.ref, before: old, after: head, forced, source, commits: fresh.length, dropped },
    });
    for (const sha of fresh) {
      await this.events.append({
        type: 'commit.recorded',
        appId,
        subject: sha,
        actor,
        data: { pushId: push.id },
      });
    }
    const candidates = infos.filter((c) => fresh.includes(c.sha)).map((c) => c.sha);
    if (!candidates.includes(head)) candidates.push(head);
    const buildIds = await this.builds.onNewCommits(app, candidates, actor);
    return { push, newCommits: fresh, buildIds };
  }
}
