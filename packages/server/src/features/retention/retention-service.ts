import type {
  Artifact,
  RetentionItem,
  RetentionPolicy,
  RetentionReport,
  RetentionStatus,
} from '@gantry/contracts';
import type { Logger } from 'pino';
import { RegistryError } from '../../containers/registry.js';
import type { EventStore } from '../../events/event-store.js';
import { nowIso } from '../../ids.js';
import type { AppService } from '../apps/app-service.js';
import type { BlobStore } from '../artifacts/blob-store.js';
import { type ImageRegistries, referenceParts } from '../artifacts/image-registries.js';
import { gatherPins, type PinSources } from './retention-facts.js';
import { planRetention, type RetentionDecision } from './retention-plan.js';
import { withOverrides } from './retention-policy.js';
import type { RetentionStore } from './retention-store.js';

export interface RetentionDeps extends Omit<PinSources, 'store'> {
  store: RetentionStore;
  apps: Pick<AppService, 'getById'>;
  blobs: Pick<BlobStore, 'has' | 'delete'>;
  registries: Pick<ImageRegistries, 'forReference'>;
  events: EventStore;
  policy: RetentionPolicy;
  logger: Logger;
  now?: () => number;
}

export interface RetentionRun {
  /** List what would go and why everything else stays; change nothing. */
  dryRun?: boolean;
  /** Who asked: a token or person, or `gantry:retention` for the scheduled pass. */
  actor: string;
  /** This run only: a stricter or looser policy than the server's. */
  keepPerApp?: number;
  maxAge?: string;
}

type Storage = NonNullable<RetentionItem['storage']>;

/**
 * Artifact garbage collection by policy (docs/retention.md). A pass reads what every environment
 * needs, plans (retention-plan.ts), then for each artifact to go: marks its row collected (unless a
 * deployment asked for it since), deletes its tarball from the data dir or its manifest from the
 * registry (unless another live artifact has the same bytes), and appends `artifact.pruned`. When
 * the bytes cannot be deleted the row is live again and the next pass tries again. Passes on one
 * server run one at a time.
 */
export class ArtifactRetention {
  private chain: Promise<unknown> = Promise.resolve();
  private last: RetentionStatus['lastRun'] = null;

  constructor(private readonly d: RetentionDeps) {}

  get policy(): RetentionPolicy {
    return this.d.policy;
  }

  status(): RetentionStatus {
    return { policy: this.d.policy, lastRun: this.last };
  }

  /** What the policy decides now, with reasons. */
  async plan(policy: RetentionPolicy = this.d.policy): Promise<RetentionDecision[]> {
    const artifacts = await this.d.store.liveArtifacts();
    const { pins, appHolds } = await gatherPins(this.d);
    return planRetention({ artifacts, pins, appHolds, now: (this.d.now ?? Date.now)() }, policy);
  }

  /** One pass (or a dry run); passes queue behind each other. */
  run(r: RetentionRun): Promise<RetentionReport> {
    const next = this.chain.then(() => this.pass(r));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async pass(r: RetentionRun): Promise<RetentionReport> {
    const policy = withOverrides(this.d.policy, r);
    const at = nowIso();
    const decisions = await this.plan(policy);
    const item = (x: RetentionDecision): RetentionItem => ({ artifact: x.artifact, reasons: x.reasons });
    const kept = decisions.filter((x) => x.keep).map(item);
    const going = decisions.filter((x) => !x.keep);
    const report: RetentionReport = {
      dryRun: Boolean(r.dryRun),
      policy,
      at,
      collected: [],
      kept,
      failed: [],
      freedBytes: 0,
    };
    if (r.dryRun) {
      report.collected = going.map(item);
      return this.remember(report, r.actor);
    }
    for (const x of going) {
      const a = x.artifact;
      if (!(await this.d.store.collect(a.id))) {
        // Already collected by another pass, or a deployment named it since the plan was made.
        const live = (await this.d.store.liveArtifacts()).find((l) => l.id === a.id);
        if (live) kept.push({ artifact: a, reasons: ['a deployment asked for it while this pass ran'] });
        continue;
      }
      let storage: Storage;
      try {
        storage = await this.deleteStorage(a);
      } catch (e) {
        await this.d.store.restore(a);
        const error = e instanceof Error ? e.message : String(e);
        report.failed.push({ artifact: a, error });
        this.d.logger.warn(
          { artifact: a.id, err: e },
          `artifact retention: could not delete ${a.id}; it stays and the next pass tries again`,
        );
        continue;
      }
      if (storage === 'deleted') report.freedBytes += a.size;
      report.collected.push({
        artifact: { ...a, current: false, prunedAt: nowIso() },
        reasons: x.reasons,
        storage,
      });
      await this.d.events.append({
        type: 'artifact.pruned',
        appId: a.appId,
        subject: a.id,
        actor: r.actor,
        data: {
          sha: a.sha,
          digest: a.digest,
          kind: a.kind,
          reference: a.reference,
          by: 'retention',
          reasons: x.reasons,
          storage,
          policy: { keepPerApp: policy.keepPerApp, maxAge: policy.maxAge },
        },
      });
    }
    return this.remember(report, r.actor);
  }

  /** Deletes a collected artifact's bytes, unless another live artifact has them too. */
  private async deleteStorage(a: Artifact): Promise<Storage> {
    if (await this.d.store.shared(a)) return 'shared';
    if (a.kind !== 'image' || !a.reference) {
      if (!(await this.d.blobs.has(a.digest))) return 'missing';
      await this.d.blobs.delete(a.digest);
      return 'deleted';
    }
    const app = await this.d.apps.getById(a.appId);
    const { repository, digest } = referenceParts(a.reference);
    const registry = await this.d.registries.forReference(app, a.reference);
    try {
      return (await registry.client().deleteManifest(repository, digest)) ? 'deleted' : 'missing';
    } catch (e) {
      // distribution answers 405 UNSUPPORTED unless REGISTRY_STORAGE_DELETE_ENABLED=true.
      if (e instanceof RegistryError && e.status === 405) {
        this.d.logger.warn(
          { artifact: a.id, reference: a.reference },
          `artifact retention: ${registry.label} does not allow deletes; ${a.reference} stays there (Gantry no longer deploys it)`,
        );
        return 'left_in_registry';
      }
      throw e;
    }
  }

  private remember(report: RetentionReport, actor: string): RetentionReport {
    this.last = {
      at: report.at,
      dryRun: report.dryRun,
      actor,
      collected: report.collected.length,
      kept: report.kept.length,
      failed: report.failed.length,
      freedBytes: report.freedBytes,
    };
    return report;
  }
}
