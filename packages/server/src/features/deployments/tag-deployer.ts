import type { Deployment } from '@gantry/contracts';
import type { RepoMirror } from '../../git/repo-mirror.js';
import type { AppRecord } from '../apps/app-store.js';
import type { SeenTagStore } from '../environments/environment-store.js';
import { DEFAULT_TAG_PATTERN, tagGlob, tagMatcher } from './deploy-tags.js';
import type { DeploymentService } from './deployment-service.js';

/**
 * Deploys commits named by newly pushed deploy tags. Each tag is taken once (seen_tags), so the
 * same tag seen by the hook, a webhook and the poller deploys once.
 */
export class TagDeployer {
  constructor(
    private readonly seen: SeenTagStore,
    private readonly deployments: DeploymentService,
  ) {}

  async patternFor(app: AppRecord, head: string | null): Promise<string> {
    if (!head) return DEFAULT_TAG_PATTERN;
    return (await this.deployments.configAt(app, head))?.tags?.pattern ?? DEFAULT_TAG_PATTERN;
  }

  /** `initial`: the app was just added; existing tags are history, not requests. */
  async scan(
    app: AppRecord,
    mirror: RepoMirror,
    head: string | null,
    initial: boolean,
  ): Promise<Deployment[]> {
    const pattern = await this.patternFor(app, head);
    const envOf = tagMatcher(pattern);
    const known = await this.seen.seen(app.id);
    const out: Deployment[] = [];
    for (const tag of await mirror.tags(tagGlob(pattern))) {
      if (known.has(tag.name)) continue;
      const env = envOf(tag.name);
      if (!env) continue;
      if (!(await this.seen.markSeen(app.id, tag.name, tag.sha))) continue;
      if (initial) continue;
      const actor = tag.tagger ? `${tag.tagger.name} <${tag.tagger.email}>` : 'git';
      let reason = tag.message ?? null;
      let remediates = remediatesTrailer(tag.message);
      if (remediates) {
        // A wrong link must not stop the deployment the tag asks for: deploy, drop the link, say why.
        const why = await this.deployments.checkRemediates(app, env, remediates).then(
          () => null,
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        );
        if (why) {
          reason = `${reason ?? ''}\n(the Remediates: trailer was ignored: ${why})`.trim();
          remediates = null;
        }
      }
      out.push(
        await this.deployments.request({
          app,
          env,
          sha: tag.sha,
          trigger: 'tag',
          actor,
          tag: tag.name,
          reason,
          remediates,
        }),
      );
    }
    return out;
  }
}

/** `Remediates: <deployment id>` on a line of a deploy tag's message (as `gantry deploy --remediates` writes). */
export function remediatesTrailer(message: string | null | undefined): string | null {
  const m = /^remediates:[ \t]*(\S+)[ \t]*$/im.exec(message ?? '');
  return m ? m[1]! : null;
}
