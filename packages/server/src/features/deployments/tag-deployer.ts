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
      out.push(
        await this.deployments.request({
          app,
          env,
          sha: tag.sha,
          trigger: 'tag',
          actor,
          tag: tag.name,
          reason: tag.message ?? null,
        }),
      );
    }
    return out;
  }
}
