import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { EnvironmentSpec, ImageArtifact } from '@gantry/driver-api';
import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import { Conflict, InvalidInput, NotAllowed, NotFound } from '../../errors.js';
import { newId, nowIso } from '../../ids.js';
import type { BlobStore } from '../artifacts/blob-store.js';
import type { Principal } from '../auth/token-service.js';
import type { Sealed } from '../secrets/secret-cipher.js';
import type { SecretService } from '../secrets/secret-service.js';
import type { HostRestorer } from './host-restore.js';

/** `restore`: a deploy of an environment's last healthy release to a host another agent took over (host-restore.ts). */
export type HostJobKind = 'deploy' | 'health' | 'stop' | 'traffic' | 'restore';

/** A release as it travels to an agent: a tarball by digest (the agent downloads it), or an image. */
export type RemoteArtifact = { kind: 'tarball'; digest: string } | ImageArtifact;

export interface HostJobPayload {
  /** The driver to run on the host: process or container. */
  driver: string;
  spec: EnvironmentSpec;
  release?: { sha: string; deploymentId: string; artifact: RemoteArtifact };
  fence?: number;
  sinceMs?: number;
}

type StoredPayload = HostJobPayload & { sealedSecrets?: Sealed & { keyId: string } };

/** What an agent gets when it claims a host job. */
export interface HostJob {
  id: string;
  host: string;
  kind: HostJobKind;
  payload: HostJobPayload;
}

export interface HostJobOptions {
  /** How long the job may wait for the host's agent to take it. */
  claimTimeoutMs: number;
  /** How long the agent may take once it has it. */
  runTimeoutMs: number;
  onPhase?: (phase: string) => void;
  signal?: AbortSignal;
}

/** An offered job its agent did not start within this long goes back to the queue (its reply was lost). */
const OFFER_MS = 5_000;

export interface HostJobsDeps {
  db: Db;
  logger: Logger;
  labelsOf: (p: Principal) => Promise<string[]>;
  blobs: Pick<BlobStore, 'open'>;
  /** A deploy job's secrets wait in its row sealed, and are opened for the agent that takes it. */
  secrets: Pick<SecretService, 'sealInTransit' | 'openInTransit'>;
  /** An agent that stopped asking for work this long ago loses its hosts. */
  staleAfterMs: number;
}

/**
 * The driver calls of environments that live on deploy agents (gantry.yaml `hosts`): a queue per
 * host in the database, taken by the agent process holding the host (a lease renewed each time it
 * asks for work) and answered with the driver's result. The waiting server learns of an answer from
 * this process's emitter at once, and from the table within a poll when another server got it.
 */
export class HostJobs {
  private readonly signals = new EventEmitter().setMaxListeners(0);
  private relay?: (id: string, phase: string) => Promise<void>;
  private restorer?: HostRestorer;

  constructor(private readonly d: HostJobsDeps) {}

  /** Queues a driver call for `host`'s agent; the row keeps the environment's secrets sealed. */
  private async insertJob(host: string, kind: HostJobKind, payload: HostJobPayload): Promise<string> {
    const id = newId('hj');
    await this.d.db
      .insertInto('host_jobs')
      .values({
        id,
        host,
        app: payload.spec.app,
        env: payload.spec.name,
        kind,
        payload: JSON.stringify(await this.stored(id, payload)),
        status: 'queued',
        result: null,
        error: null,
        instance: null,
        created_at: nowIso(),
        claimed_at: null,
        finished_at: null,
      })
      .execute();
    return id;
  }

  /** Runs one driver call on `host`'s agent and returns its result, or throws saying why not. */
  async run<T>(host: string, kind: HostJobKind, payload: HostJobPayload, o: HostJobOptions): Promise<T> {
    const id = await this.insertJob(host, kind, payload);
    this.signals.emit(`host:${host}`);
    const onPhase = (phase: string) => o.onPhase?.(phase);
    this.signals.on(`phase:${id}`, onPhase);
    try {
      return await this.await<T>(id, host, o);
    } finally {
      this.signals.off(`phase:${id}`, onPhase);
      // The row only carries the call and its answer: once the caller has it, it goes (health calls
      // come with every status read). A late answer then finds no row and is refused (409).
      await this.d.db
        .deleteFrom('host_jobs')
        .where('id', '=', id)
        .execute()
        .catch((err: unknown) => this.d.logger.warn({ err, id }, 'could not remove a finished host job'));
    }
  }

  private async await<T>(id: string, host: string, o: HostJobOptions): Promise<T> {
    const started = Date.now();
    let claimedAt: number | null = null;
    for (;;) {
      const row = await this.d.db
        .selectFrom('host_jobs')
        .select(['status', 'result', 'error', 'claimed_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      if (row.status === 'succeeded') return (row.result ? JSON.parse(row.result) : null) as T;
      if (row.status === 'failed') throw new Error(row.error ?? `host ${host}: the job failed`);
      if (row.status === 'running') claimedAt ??= Date.now();
      if (row.status === 'offered' && row.claimed_at && Date.now() - Date.parse(row.claimed_at) > OFFER_MS) {
        await this.d.db
          .updateTable('host_jobs')
          .set({ status: 'queued', instance: null, claimed_at: null })
          .where('id', '=', id)
          .where('status', '=', 'offered')
          .execute();
        this.signals.emit(`host:${host}`);
      }
      const why =
        o.signal?.aborted === true
          ? 'the deployment was stopped'
          : claimedAt === null && Date.now() - started > o.claimTimeoutMs
            ? await this.unclaimedReason(host, o.claimTimeoutMs)
            : claimedAt !== null && Date.now() - claimedAt > o.runTimeoutMs
              ? `the agent of host ${host} took the job but did not answer within ${Math.round(o.runTimeoutMs / 1000)} s (cut off, or stopped); what runs there now is what it last finished`
              : null;
      if (why) {
        // Only a job no agent has finished is failed here; a result that lands meanwhile wins.
        const res = await this.d.db
          .updateTable('host_jobs')
          .set({ status: 'failed', error: why, finished_at: nowIso() })
          .where('id', '=', id)
          .where('status', 'in', ['queued', 'offered', 'running'])
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 1) throw new Error(why);
        continue;
      }
      await this.wait(`done:${id}`, 250, o.signal);
    }
  }

  private async unclaimedReason(host: string, waitedMs: number): Promise<string> {
    const holder = await this.d.db
      .selectFrom('agent_hosts')
      .select(['seen_at', 'expires_at'])
      .where('host', '=', host)
      .executeTakeFirst();
    const waited = `${Math.round(waitedMs / 1000)} s`;
    if (!holder)
      return `no agent serves host ${host}: run \`gantry agent --labels ${host}\` on that machine with an agent token that has the label (\`gantry agents token create --labels ${host}\`)`;
    return `the agent of host ${host} did not take the job within ${waited} (it last asked for work at ${holder.seen_at}); is it running and can it reach this server?`;
  }

  /**
   * An agent asks for work: it takes (or keeps) the hosts among its labels that no other live agent
   * holds, then gets the oldest queued job of those hosts, waiting up to `waitMs` for one.
   */
  async claim(
    p: Principal,
    instance: string,
    waitMs: number,
    asked?: string[],
    signal?: AbortSignal,
    /** How this agent's machine is reached (its `--address`), for the environments' URLs. */
    address?: string,
  ): Promise<HostJob | null> {
    if (!/^[A-Za-z0-9_-]{8,64}$/.test(instance))
      throw new InvalidInput('instance must be 8–64 letters, digits, _ or -');
    const own = await this.d.labelsOf(p);
    const extra = (asked ?? []).filter((l) => !own.includes(l));
    if (extra.length)
      throw new NotAllowed(
        `this agent token has the labels ${own.join(', ') || '(none)'}, not ${extra.join(', ')}`,
      );
    const labels = asked?.length ? asked : own;
    const until = Date.now() + Math.min(waitMs, this.d.staleAfterMs / 2);
    // The hosts are taken or renewed at the ask, and again every quarter lease while it waits.
    let hosts: string[] = [];
    let heldAt = 0;
    for (;;) {
      if (Date.now() - heldAt >= this.d.staleAfterMs / 4) {
        hosts = await this.hold(p.tokenId!, instance, labels, address ?? null);
        heldAt = Date.now();
      }
      const job = hosts.length ? await this.take(hosts, instance) : null;
      if (job || Date.now() >= until || signal?.aborted) return job;
      await this.waitAny(
        hosts.map((h) => `host:${h}`),
        Math.min(500, until - Date.now()),
        signal,
      );
    }
  }

  /** Takes or renews the hosts of `labels` this agent process may hold; returns those it holds. */
  private async hold(
    agentId: string,
    instance: string,
    labels: string[],
    address: string | null,
  ): Promise<string[]> {
    const before = new Map(
      (
        await this.d.db
          .selectFrom('agent_hosts')
          .select(['host', 'instance'])
          .where('host', 'in', labels.length ? labels : [''])
          .execute()
      ).map((r) => [r.host, r.instance]),
    );
    const now = new Date();
    const seen = now.toISOString();
    const expires = new Date(now.getTime() + this.d.staleAfterMs).toISOString();
    for (const host of labels) {
      await this.d.db
        .insertInto('agent_hosts')
        .values({ host, agent_id: agentId, instance, seen_at: seen, expires_at: expires, address })
        .onConflict((oc) =>
          oc
            .column('host')
            .doUpdateSet({ agent_id: agentId, instance, seen_at: seen, expires_at: expires, address })
            .where((eb) =>
              eb.or([eb('agent_hosts.instance', '=', instance), eb('agent_hosts.expires_at', '<', seen)]),
            ),
        )
        .execute();
    }
    const held = (
      await this.d.db.selectFrom('agent_hosts').select('host').where('instance', '=', instance).execute()
    ).map((r) => r.host);
    // A host this process did not hold before (a new machine for the label, or a restarted agent):
    // what lives there is restored first, queued before any call that comes after.
    for (const host of held) if (before.get(host) !== instance) await this.queueRestores(host);
    // A restore has no waiter to put it back when its offer's reply was lost: done here, at each
    // renewal (every quarter lease), not at every take.
    if (held.length)
      await this.d.db
        .updateTable('host_jobs')
        .set({ status: 'queued', instance: null, claimed_at: null })
        .where('kind', '=', 'restore')
        .where('status', '=', 'offered')
        .where('host', 'in', held)
        .where('claimed_at', '<', new Date(Date.now() - OFFER_MS).toISOString())
        .execute();
    return held;
  }

  private async queueRestores(host: string): Promise<void> {
    if (!this.restorer) return;
    try {
      const payloads = await this.restorer.releasesFor(host);
      // Restores of an earlier holder (queued, or taken by a process that is gone) give way to these.
      await this.d.db
        .deleteFrom('host_jobs')
        .where('host', '=', host)
        .where('kind', '=', 'restore')
        .execute();
      for (const payload of payloads) await this.insertJob(host, 'restore', payload);
      if (payloads.length)
        this.d.logger.info(
          { host, environments: payloads.map((p) => `${p.spec.app}/${p.spec.name}`) },
          'host taken over by another agent: restoring what lives there',
        );
    } catch (err) {
      this.d.logger.warn({ err, host }, 'could not queue the restores of a taken-over host');
    }
  }

  private async take(hosts: string[], instance: string): Promise<HostJob | null> {
    for (let tries = 0; tries < 5; tries++) {
      const next = await this.d.db
        .selectFrom('host_jobs')
        .select(['id', 'host', 'kind', 'payload'])
        .where('status', '=', 'queued')
        .where('host', 'in', hosts)
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      if (!next) return null;
      const res = await this.d.db
        .updateTable('host_jobs')
        .set({ status: 'offered', instance, claimed_at: nowIso() })
        .where('id', '=', next.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) continue;
      return {
        id: next.id,
        host: next.host,
        kind: next.kind as HostJobKind,
        payload: await this.opened(next.id, JSON.parse(next.payload) as StoredPayload).catch(async (e) => {
          // Its secrets do not open here (another server's key): the call fails saying so.
          await this.d.db
            .updateTable('host_jobs')
            .set({ status: 'failed', error: (e as Error).message, finished_at: nowIso() })
            .where('id', '=', next.id)
            .execute();
          throw e;
        }),
      };
    }
    return null;
  }

  /** The payload as its row keeps it: the environment's secrets sealed, not in the spec. */
  private async stored(id: string, payload: HostJobPayload): Promise<StoredPayload> {
    const { secrets, ...spec } = payload.spec;
    if (!secrets || !Object.keys(secrets).length) return payload;
    return { ...payload, spec, sealedSecrets: await this.d.secrets.sealInTransit(`host job ${id}`, secrets) };
  }

  private async opened(id: string, stored: StoredPayload): Promise<HostJobPayload> {
    const { sealedSecrets, ...payload } = stored;
    if (!sealedSecrets) return payload;
    const secrets = await this.d.secrets.openInTransit(`host job ${id}`, sealedSecrets);
    return { ...payload, spec: { ...payload.spec, secrets } };
  }

  /** The job as its agent process holds it; 404 for another's, 409 once it is over. */
  async held(instance: string, id: string): Promise<HostJob> {
    const row = await this.d.db
      .selectFrom('host_jobs')
      .select(['id', 'host', 'kind', 'payload', 'status', 'instance'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.instance !== instance) throw new NotFound(`no host job ${id} of this agent`);
    if (row.status !== 'running')
      throw new Conflict(`host job ${id} is ${row.status}: the server stopped waiting for it`);
    return {
      id: row.id,
      host: row.host,
      kind: row.kind as HostJobKind,
      // Only the release is read from it here (its tarball): the secrets stay sealed.
      payload: JSON.parse(row.payload) as HostJobPayload,
    };
  }

  /** The tarball of a held job's release. */
  async tarball(instance: string, id: string): Promise<Readable> {
    const job = await this.held(instance, id);
    const a = job.payload.release?.artifact;
    if (a?.kind !== 'tarball') throw new NotFound(`host job ${job.id} has no tarball`);
    return this.d.blobs.open(a.digest);
  }

  /**
   * The agent got the job and starts it. Until then it is only offered: a reply lost on a cut link
   * (the server cannot tell) puts it back in the queue after OFFER_MS.
   */
  async start(instance: string, id: string): Promise<void> {
    const res = await this.d.db
      .updateTable('host_jobs')
      .set({ status: 'running' })
      .where('id', '=', id)
      .where('instance', '=', instance)
      .where('status', '=', 'offered')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1)
      throw new Conflict(`host job ${id} is no longer offered to this agent: it went back to the queue`);
  }

  /**
   * A phase the agent reported for job `id`. The server waiting on the job hears it at once; when
   * that is another server (agents may reach any of them), `relay` carries it there.
   */
  phase(id: string, phase: string): void {
    if (this.signals.emit(`phase:${id}`, phase)) return;
    this.relay?.(id, phase).catch((err: unknown) =>
      this.d.logger.warn({ err, id }, 'could not relay a deploy phase'),
    );
  }

  /** A phase another server received for a job this server may be waiting on. */
  phaseFromElsewhere(id: string, phase: string): void {
    this.signals.emit(`phase:${id}`, phase);
  }

  /** What a host another agent takes over should serve (host-restore.ts). */
  restoreWith(restorer: HostRestorer): void {
    this.restorer = restorer;
  }

  /** Where phases of jobs waited on elsewhere go (the cluster's channel; none with one server). */
  relayPhases(relay: (id: string, phase: string) => Promise<void>): void {
    this.relay = relay;
  }

  async finish(
    instance: string,
    id: string,
    outcome: { ok: true; result: unknown } | { ok: false; error: string },
  ): Promise<void> {
    const res = await this.d.db
      .updateTable('host_jobs')
      .set({
        status: outcome.ok ? 'succeeded' : 'failed',
        result: outcome.ok ? JSON.stringify(outcome.result ?? null) : null,
        error: outcome.ok ? null : outcome.error,
        finished_at: nowIso(),
      })
      .where('id', '=', id)
      .where('instance', '=', instance)
      .where('status', '=', 'running')
      .returning(['host', 'kind', 'payload'])
      .executeTakeFirst();
    if (!res) throw new Conflict(`host job ${id} is no longer running: the server stopped waiting for it`);
    this.signals.emit(`done:${id}`);
    if (res.kind === 'restore') await this.restoreEnded(id, res, outcome);
  }

  /** Nobody waits on a restore: its end is recorded here and its row goes. */
  private async restoreEnded(
    id: string,
    row: { host: string; payload: string },
    outcome: { ok: true; result: unknown } | { ok: false; error: string },
  ): Promise<void> {
    await this.d.db.deleteFrom('host_jobs').where('id', '=', id).execute();
    const { sealedSecrets: _sealed, ...payload } = JSON.parse(row.payload) as StoredPayload;
    await this.restorer
      ?.restored(row.host, payload, outcome)
      .catch((err: unknown) => this.d.logger.warn({ err, id }, 'could not record a host restore'));
  }

  /** How each held host's agent is reached (hosts whose agent sent no address are absent). */
  async addresses(): Promise<Map<string, string>> {
    const rows = await this.d.db
      .selectFrom('agent_hosts')
      .select(['host', 'address'])
      .where('address', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [r.host, r.address!]));
  }

  /** The agent process holding `host` (for events it reports), or null. */
  async holderOf(host: string): Promise<string | null> {
    const row = await this.d.db
      .selectFrom('agent_hosts')
      .select('instance')
      .where('host', '=', host)
      .executeTakeFirst();
    return row?.instance ?? null;
  }

  private wait(name: string, ms: number, signal?: AbortSignal): Promise<void> {
    return this.waitAny([name], ms, signal);
  }

  private waitAny(names: string[], ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const n of names) this.signals.off(n, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      for (const n of names) this.signals.once(n, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
