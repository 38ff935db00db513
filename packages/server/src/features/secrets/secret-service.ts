import {
  type KeyRotation,
  SECRET_VALUE_MIN,
  type Secret,
  type SetSecretBody,
  secretNameProblem,
} from '@gantry/contracts';
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { Conflict, InvalidInput, NotFound } from '../../errors.js';
import type { EventStore } from '../../events/event-store.js';
import { checkEnvironmentName } from '../../git/ref-names.js';
import { nowIso } from '../../ids.js';
import type { AppService } from '../apps/app-service.js';
import { open, type Sealed, SecretDecryptError, type SecretPlace, seal } from './secret-cipher.js';
import { SecretKeys, type SecretKeysOptions } from './secret-keys.js';
import { SecretMasker } from './secret-masker.js';
import type { SecretRecord, SecretStore } from './secret-store.js';
import { SqlSecretStore } from './sql-secret-store.js';

export interface SecretServiceDeps {
  store: SecretStore;
  keys: SecretKeys;
  apps: Pick<AppService, 'get' | 'getById'>;
  events: Pick<EventStore, 'append'>;
}

/** Who the app is, for lookups and messages. */
interface AppRef {
  id: string;
  name: string;
}

/** A declared secret that is not set: the build or deployment fails with this. */
export class MissingSecret extends InvalidInput {}

const BATCH = 100;

/**
 * An app's secrets: set and removed through the API (write-only: values never leave except into a
 * build or release that declares them), sealed with the current key, read back only by
 * `secretsFor`, and re-sealed under a new key by `rotateKey`.
 */
export class SecretService {
  private rotation: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: SecretServiceDeps) {}

  async list(appRef: string): Promise<Secret[]> {
    const app = await this.d.apps.get(appRef);
    return (await this.d.store.list(app.id)).map(view);
  }

  async set(
    appRef: string,
    name: string,
    body: SetSecretBody,
    actor: string,
  ): Promise<{ secret: Secret; created: boolean }> {
    checkName(name);
    const env = body.env ? checkEnvironmentName(body.env) : '';
    const value = body.value;
    if (value.length < SECRET_VALUE_MIN)
      throw new InvalidInput(
        `the value of ${name} is shorter than ${SECRET_VALUE_MIN} characters: Gantry masks every secret's value in logs, and cannot mask one that short; a setting that is not secret belongs in gantry.yaml (environments.<env>.config)`,
        { field: 'value' },
      );
    if (value.includes('\0'))
      throw new InvalidInput(
        `the value of ${name} holds a NUL character, which no environment variable can`,
        {
          field: 'value',
        },
      );
    const app = await this.d.apps.get(appRef);
    const key = await this.d.keys.current();
    const sealed = seal(key.key, { appId: app.id, env, name }, value);
    const updatedAt = nowIso();
    const created = await this.d.store.save({
      appId: app.id,
      env,
      name,
      keyId: key.id,
      ...sealed,
      updatedAt,
      updatedBy: actor,
    });
    await this.d.events.append({
      type: 'secret.set',
      appId: app.id,
      subject: name,
      actor,
      data: { name, env: env || null, created },
    });
    const stored = (await this.d.store.forEnvironments(app.id, [env])).find((r) => r.name === name);
    return {
      secret: stored
        ? view(stored)
        : { name, env: env || null, createdAt: updatedAt, updatedAt, updatedBy: actor },
      created,
    };
  }

  async remove(appRef: string, name: string, envName: string | undefined, actor: string): Promise<void> {
    checkName(name);
    const env = envName ? checkEnvironmentName(envName) : '';
    const app = await this.d.apps.get(appRef);
    if (!(await this.d.store.remove(app.id, env, name))) {
      throw new NotFound(
        `${app.name} has no secret ${name} ${env ? `for ${env}` : 'app-wide'}; see \`gantry secrets list --app ${app.name}\``,
      );
    }
    await this.d.events.append({
      type: 'secret.removed',
      appId: app.id,
      subject: name,
      actor,
      data: { name, env: env || null },
    });
  }

  /**
   * The values of the declared `names`, for a build (`env` null: app-wide values only) or a release
   * of `env` (its own value, else the app-wide one). Throws MissingSecret naming every declared
   * secret that is not set, and how to set it; with `bestEffort`, leaves out what is not set or does
   * not decrypt instead (a `command` driver's health or stop script outside a deployment).
   */
  /**
   * Values on their way somewhere, sealed with the current key for a row that holds them a moment
   * (a deploy job waiting for its agent), bound to `where`: the row's copy is no plaintext, and
   * opens only for the same `where` on a server with the key.
   */
  async sealInTransit(where: string, values: Record<string, string>): Promise<Sealed & { keyId: string }> {
    const key = await this.d.keys.current();
    return { keyId: key.id, ...seal(key.key, transitPlace(where), JSON.stringify(values)) };
  }

  async openInTransit(where: string, box: Sealed & { keyId: string }): Promise<Record<string, string>> {
    const key = await this.d.keys.get(box.keyId);
    if (!key)
      throw new SecretDecryptError(
        `the secrets of ${where} were sealed with key ${box.keyId}, which this server does not have: give every server the same key file`,
      );
    return JSON.parse(open(key, transitPlace(where), box, `in ${where}`)) as Record<string, string>;
  }

  async secretsFor(
    app: AppRef,
    env: string | null,
    names: readonly string[],
    opts: { bestEffort?: boolean } = {},
  ): Promise<Record<string, string>> {
    if (names.length === 0) return {};
    const rows = await this.d.store.forEnvironments(app.id, env ? ['', env] : ['']);
    const out: Record<string, string> = {};
    const missing: string[] = [];
    for (const name of names) {
      const row =
        rows.find((r) => r.name === name && r.env === env) ??
        rows.find((r) => r.name === name && r.env === '');
      if (!row) missing.push(name);
      else if (!opts.bestEffort) out[name] = await this.reveal(app, row);
      else {
        const value = await this.reveal(app, row).catch(() => undefined);
        if (value !== undefined) out[name] = value;
      }
    }
    if (missing.length > 0 && !opts.bestEffort)
      throw new MissingSecret(missingMessage(app.name, env, missing));
    return out;
  }

  /** Masks every value the app's `env` (null: builds) could be given: its own and the app-wide ones. */
  async maskerFor(app: AppRef, env: string | null): Promise<SecretMasker> {
    const rows = await this.d.store.forEnvironments(app.id, env ? ['', env] : ['']);
    const values: string[] = [];
    for (const row of rows) values.push(await this.reveal(app, row).catch(() => ''));
    return new SecretMasker(values);
  }

  /**
   * Makes a new key current (kept beside the old in the key file), seals every value again with it,
   * then retires the old key. Run again after an interruption, it finishes the rotation it finds.
   */
  rotateKey(actor: string): Promise<KeyRotation> {
    const run = this.rotation.then(() => this.rotate(actor));
    this.rotation = run.catch(() => undefined);
    return run;
  }

  /** Keys this server lacks that some secrets are sealed with, and how many each. */
  async unreadable(): Promise<{ keyId: string; count: number }[]> {
    const have = new Set(await this.d.keys.ids());
    return [...(await this.d.store.countByKey())]
      .filter(([id]) => !have.has(id))
      .map(([keyId, count]) => ({ keyId, count }));
  }

  private async rotate(actor: string): Promise<KeyRotation> {
    const { current, resumed } = await this.d.keys.beginRotation();
    const key = (await this.d.keys.get(current))!;
    let reencrypted = 0;
    for (let round = 0; round < 10_000; round++) {
      const batch = await this.d.store.notUnder(current, BATCH);
      if (batch.length === 0) break;
      let progressed = false;
      for (const r of batch) {
        const value = await this.reveal(await this.appOf(r), r);
        const next = { ...seal(key, place(r), value), keyId: current };
        if (await this.d.store.reseal(r.id, r, next)) reencrypted++;
        progressed = true;
      }
      if (!progressed) break;
    }
    const left = [...(await this.d.store.countByKey())].filter(([id]) => id !== current);
    if (left.length > 0)
      throw new Conflict(
        `values were written with an older key while the rotation ran (another server with an old key file?); run \`gantry secrets rotate-key\` again`,
      );
    const retired = await this.d.keys.retireOld();
    await this.d.events.append({
      type: 'secret.key_rotated',
      appId: null,
      subject: current,
      actor,
      data: { keyId: current, retired, reencrypted, resumed },
    });
    return { keyId: current, retired, reencrypted, resumed };
  }

  private async appOf(r: SecretRecord): Promise<AppRef> {
    return this.d.apps.getById(r.appId).catch(() => ({ id: r.appId, name: r.appId }));
  }

  private async reveal(app: AppRef, r: SecretRecord): Promise<string> {
    const label = `${r.name} of ${app.name}${r.env ? `/${r.env}` : ' (app-wide)'}`;
    const key = await this.d.keys.get(r.keyId);
    if (!key)
      throw new SecretDecryptError(
        `secret ${label} was sealed with key ${r.keyId}, which this server does not have (it has ${(await this.d.keys.ids()).join(', ')}): start it with the key file or GANTRY_SECRETS_KEY it was set with, or set the secret again`,
      );
    return open(key, place(r), r, label);
  }
}

function place(r: SecretRecord): SecretPlace {
  return { appId: r.appId, env: r.env, name: r.name };
}

function view(r: SecretRecord): Secret {
  return {
    name: r.name,
    env: r.env || null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    updatedBy: r.updatedBy,
  };
}

function checkName(name: string): void {
  const problem = secretNameProblem(name);
  if (problem) throw new InvalidInput(problem, { field: 'name' });
}

function missingMessage(app: string, env: string | null, missing: string[]): string {
  const list = missing.join(', ');
  const one = missing.length === 1;
  const set = missing
    .map((n) => `\`gantry secrets set ${n} --app ${app}${env ? ` --env ${env}` : ''}\``)
    .join(', ');
  return env
    ? `environments.${env}.secrets lists ${list}, ${one ? 'which is' : 'which are'} not set for ${app}/${env}: set ${one ? 'it' : 'them'} with ${set} (without --env for every environment)`
    : `build.secrets lists ${list}, ${one ? 'which is' : 'which are'} not set for ${app} app-wide (builds get app-wide values only): set ${one ? 'it' : 'them'} with ${set}`;
}

export interface CreateSecretServiceOptions extends SecretKeysOptions {
  apps: SecretServiceDeps['apps'];
  events: SecretServiceDeps['events'];
  logger: Pick<Logger, 'info' | 'warn'>;
}

/** Loads the key (making `<data-dir>/secrets.key` on a first start) and says what it found. */
export async function createSecretService(db: Db, o: CreateSecretServiceOptions): Promise<SecretService> {
  const keys = await SecretKeys.load(o);
  for (const note of keys.notes) o.logger.info(note);
  const service = new SecretService({ store: new SqlSecretStore(db), keys, apps: o.apps, events: o.events });
  for (const { keyId, count } of await service.unreadable())
    o.logger.warn(
      `${count} secret(s) are sealed with key ${keyId}, which this server does not have: builds and deployments that need them fail until it is started with that key (GANTRY_SECRETS_KEY_FILE or GANTRY_SECRETS_KEY)`,
    );
  return service;
}

/** No app id is empty: a value in transit cannot pass for a stored secret, nor one for another. */
function transitPlace(where: string): SecretPlace {
  return { appId: '', env: where, name: 'in-transit' };
}
