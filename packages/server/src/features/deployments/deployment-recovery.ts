import type { Deployment } from '@gantry/contracts';
import type { AppService } from '../apps/app-service.js';
import type { AppRecord } from '../apps/app-store.js';
import type { ArtifactService } from '../artifacts/artifact-service.js';
import type { SeenTagStore } from '../environments/environment-store.js';
import { tagGlob, tagMatcher } from './deploy-tags.js';
import type { DeploymentStore } from './deployment-store.js';
import type { TagDeployer } from './tag-deployer.js';

/**
 * Git is the record of intent: every deployment made by tag leaves a tag, so when the database is
 * lost the history can be rebuilt from the tags (as `recovered` deployments, oldest first).
 */
export class DeploymentRecovery {
  constructor(
    private readonly apps: AppService,
    private readonly deployments: DeploymentStore,
    private readonly seen: SeenTagStore,
    private readonly tags: TagDeployer,
    private readonly artifacts: ArtifactService,
  ) {}

  async fromTags(app: AppRecord, actor: string): Promise<{ recovered: Deployment[]; skipped: number }> {
    const mirror = this.apps.mirrorOf(app);
    await mirror.fetch();
    const pattern = await this.tags.patternFor(app, await mirror.headOf());
    const envOf = tagMatcher(pattern);
    const recorded = new Set((await this.deployments.list({ appId: app.id, limit: 1000 })).map((d) => d.tag));
    const recovered: Deployment[] = [];
    let skipped = 0;
    const previous = new Map<string, string>();
    for (const tag of await mirror.tags(tagGlob(pattern))) {
      const env = envOf(tag.name);
      if (!env) continue;
      if (recorded.has(tag.name)) {
        skipped++;
        previous.set(env, tag.sha);
        continue;
      }
      await this.seen.markSeen(app.id, tag.name, tag.sha);
      const artifact = await this.artifacts.findCurrent(app.id, tag.sha);
      recovered.push(
        await this.deployments.insert({
          appId: app.id,
          env,
          sha: tag.sha,
          previousSha: previous.get(env) ?? null,
          artifactId: artifact?.id ?? null,
          digest: artifact?.digest ?? null,
          trigger: 'recovered',
          actor: tag.tagger ? `${tag.tagger.name} <${tag.tagger.email}>` : actor,
          reason: tag.message ?? null,
          tag: tag.name,
          forced: false,
          status: 'succeeded',
          at: tag.createdAt,
        }),
      );
      previous.set(env, tag.sha);
    }
    return { recovered, skipped };
  }
}
