import type { Db } from '../../db/database.js';

/**
 * Failed sign-ins, counted per account and per address in a sliding window: past the limit, sign-in
 * is refused (429, with when to try again) before any password is checked, so guessing costs time
 * and one address cannot lock out every account by itself (each count has its own limit).
 */
export interface LimiterOptions {
  /** Failures allowed per account in the window. */
  perAccount: number;
  /** Failures allowed per address in the window. */
  perAddress: number;
  windowMs: number;
}

/** Rows older than the window are deleted at most this often (by the server that records a failure). */
const SWEEP_EVERY_MS = 60_000;

/**
 * The failures are rows in the database (`sign_in_failures`, migration 023), so every server on
 * one PostgreSQL counts the same ones: a guesser sent to another server by a load balancer is
 * refused there too.
 */
export class SignInLimiter {
  private lastSweep = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: LimiterOptions = { perAccount: 5, perAddress: 20, windowMs: 15 * 60_000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until this account and address may try again, or 0. */
  async retryAfterMs(login: string, address: string): Promise<number> {
    const [account, from] = await Promise.all([
      this.wait(accountKey(login), this.opts.perAccount),
      this.wait(addressKey(address), this.opts.perAddress),
    ]);
    return Math.max(account, from);
  }

  async failed(login: string, address: string): Promise<void> {
    const at = this.now();
    await this.db
      .insertInto('sign_in_failures')
      .values([
        { key: accountKey(login), at_ms: at },
        { key: addressKey(address), at_ms: at },
      ])
      .execute();
    if (at - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = at;
      await this.db
        .deleteFrom('sign_in_failures')
        .where('at_ms', '<=', at - this.opts.windowMs)
        .execute();
    }
  }

  /** A successful sign-in clears its account's failures (not the address's). */
  async succeeded(login: string): Promise<void> {
    await this.db.deleteFrom('sign_in_failures').where('key', '=', accountKey(login)).execute();
  }

  /** 0 under the limit; otherwise until the oldest failure that keeps it at the limit leaves the window. */
  private async wait(key: string, limit: number): Promise<number> {
    const now = this.now();
    const rows = await this.db
      .selectFrom('sign_in_failures')
      .select('at_ms')
      .where('key', '=', key)
      .where('at_ms', '>', now - this.opts.windowMs)
      .orderBy('at_ms', 'desc')
      .limit(limit)
      .execute();
    if (rows.length < limit) return 0;
    return Math.max(0, Number(rows[limit - 1]!.at_ms) + this.opts.windowMs - now);
  }
}

const accountKey = (login: string) => `login:${login.toLowerCase()}`;
const addressKey = (address: string) => `addr:${address}`;
