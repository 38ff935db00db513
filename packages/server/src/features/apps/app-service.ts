import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AppRegistry } from '@gantry/contracts';
import { Conflict, InvalidInput, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import { checkBranchName, hasControlCharacter } from '../../git/ref-names.js';
import { RepoMirror } from '../../git/repo-mirror.js';
import { newId } from '../../ids.js';
import { type AppRegistryInput, checkAppRegistry } from './app-registry.js';
import type { AppRecord, AppStore } from './app-store.js';

export interface AddAppInput {
  name: string;
  repoUrl: string;
  branch?: string;
  pollIntervalMs?: number;
  webhookSecret?: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class AppService {
  constructor(
    private readonly apps: AppStore,
    private readonly events: EventStore,
    private readonly dataDir: string,
    private readonly defaultPollIntervalMs: number,
  ) {}

  private mirrorPath(appId: string): string {
    return join(this.dataDir, 'repos', `${appId}.git`);
  }

  mirrorOf(app: AppRecord): RepoMirror {
    return new RepoMirror(this.mirrorPath(app.id), app.repoUrl, app.branch);
  }

  async add(input: AddAppInput, actor: string): Promise<AppRecord> {
    if (!NAME.test(input.name)) {
      throw new InvalidInput(
        `app name "${input.name}" is not valid: use lowercase letters, digits and dashes, starting with a letter or digit`,
      );
    }
    if (await this.apps.findByName(input.name)) throw this.exists(input.name);
    // `ext::<command>` and other transport helpers run programs; control characters end up in logs.
    if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(input.repoUrl) || hasControlCharacter(input.repoUrl)) {
      throw new InvalidInput(
        `repoUrl: ${JSON.stringify(input.repoUrl)} is not a repository URL Gantry clones: use https://, ssh://, git://, file://, user@host:path or a local path`,
      );
    }
    const repoUrl = looksLocal(input.repoUrl) ? resolve(input.repoUrl) : input.repoUrl;
    if (looksLocal(input.repoUrl) && !existsSync(repoUrl)) {
      throw new InvalidInput(
        `repository path "${repoUrl}" does not exist; pass a git URL or the path of a repository`,
      );
    }
    const branch = await checkBranchName(input.branch ?? 'main');
    const id = newId('app');
    const mirror = new RepoMirror(this.mirrorPath(id), repoUrl, branch);
    await mirror.ensure().catch(async (e: unknown) => {
      await rm(mirror.path, { recursive: true, force: true });
      throw new InvalidInput(e instanceof Error ? e.message : String(e));
    });
    const app = await this.apps
      .insert({
        id,
        name: input.name,
        repoUrl,
        branch,
        pollIntervalMs: input.pollIntervalMs ?? this.defaultPollIntervalMs,
        webhookSecret: input.webhookSecret ?? randomBytes(20).toString('hex'),
      })
      .catch(async (error: unknown) => {
        // Another add of the same name won the race (the unique name): no orphan mirror stays.
        await rm(mirror.path, { recursive: true, force: true });
        if (await this.apps.findByName(input.name)) throw this.exists(input.name);
        throw error;
      });
    await this.events.append({
      type: 'app.added',
      appId: app.id,
      subject: app.id,
      actor,
      data: { name: app.name, repoUrl, branch },
    });
    return app;
  }

  private exists(name: string): Conflict {
    return new Conflict(
      `app "${name}" already exists; pick another name, use the existing app, or remove it first (\`gantry app remove ${name}\`)`,
    );
  }

  /** Marks the app removed (its history stays) and frees its name; false when already removed. */
  markRemoved(app: AppRecord): Promise<boolean> {
    return this.apps.markRemoved(app);
  }

  /** Deletes the app's mirror; its repository is untouched. */
  async removeMirror(app: AppRecord): Promise<void> {
    await rm(this.mirrorPath(app.id), { recursive: true, force: true, maxRetries: 5 });
  }

  list(): Promise<AppRecord[]> {
    return this.apps.list();
  }

  async getByName(name: string): Promise<AppRecord> {
    const app = await this.apps.findByName(name);
    if (!app)
      throw new NotFound(`no app named "${name}"; see \`gantry app list\` or add it with \`gantry app add\``);
    return app;
  }

  async getById(id: string): Promise<AppRecord> {
    const app = await this.apps.findById(id);
    if (!app) throw new NotFound(`no app with id "${id}"`);
    return app;
  }

  /**
   * Sets where the app's images go (or, with null, the server's registry again). Admins only, through
   * the API: gantry.yaml cannot name a registry, so a commit cannot send credentials elsewhere.
   */
  async setRegistry(
    app: AppRecord,
    input: AppRegistryInput | null,
    actor: string,
  ): Promise<AppRegistry | null> {
    const registry = input && checkAppRegistry(input);
    await this.apps.setRegistry(app.id, registry);
    await this.events.append({
      type: 'app.registry_changed',
      appId: app.id,
      subject: app.id,
      actor,
      data: { registry },
    });
    return registry;
  }

  moveHead(appId: string, expected: string | null, next: string): Promise<boolean> {
    return this.apps.moveHead(appId, expected, next);
  }

  /** Accepts a name or an id; a removed app is not found. */
  async get(ref: string): Promise<AppRecord> {
    const byId = await this.apps.findById(ref);
    return byId && !byId.removedAt ? byId : this.getByName(ref);
  }
}

function looksLocal(url: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/]+@[^/]+:/.test(url);
}
