import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Role } from './users';

/**
 * Logins, sessions and the checks every change on the status page passes:
 * a session cookie (random id, HttpOnly, SameSite=Strict, expiring), a
 * per-session token in every form (CSRF), a same-origin check on every POST,
 * and a limit on login attempts per client address and per user name.
 * Sessions live in memory: a restart of the agent logs everybody out.
 */

export const SESSION_COOKIE = 'edge_session';
/** Set on the login form only: ties the form to the browser that loaded it. */
export const LOGIN_COOKIE = 'edge_login';

export interface Session {
  id: string;
  user: string;
  role: Role;
  /** The token every form of this session carries. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  /** A message to show once on the next page (what an action did). */
  flash?: { kind: 'ok' | 'error'; text: string };
}

export interface SessionOptions {
  /** A session ends after this long without a request (ms). */
  idleMs: number;
  /** ... and at the latest this long after login (ms). */
  maxMs: number;
  /** At most this many sessions at once; the oldest is dropped beyond it. */
  maxSessions: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleMs: 8 * 3600_000, maxMs: 24 * 3600_000, maxSessions: 500 };

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Compare two secrets in constant time (for equal lengths). */
export function tokensEqual(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(
    private readonly opts: SessionOptions = DEFAULT_SESSION_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {}

  create(user: string, role: Role): Session {
    const t = this.now();
    const s: Session = { id: randomToken(), user, role, csrf: randomToken(), createdAt: t, lastSeenAt: t };
    this.byId.set(s.id, s);
    while (this.byId.size > this.opts.maxSessions) this.byId.delete(this.byId.keys().next().value as string);
    return s;
  }

  /** The live session for this id (its idle time starts again), or undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeenAt > this.opts.idleMs || t - s.createdAt > this.opts.maxMs) {
      this.byId.delete(id);
      return undefined;
    }
    s.lastSeenAt = t;
    return s;
  }

  destroy(id: string): void {
    this.byId.delete(id);
  }

  /** End every session of a user (removed, or their role changed). */
  destroyUser(user: string): void {
    for (const [id, s] of this.byId) if (s.user === user) this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }
}

/** One login attempt, counted from its start. */
export interface LoginAttempt {
  /** 0: go on and check the password. Otherwise the milliseconds to wait; nothing was counted. */
  waitMs: number;
  /** The password was right: the attempt no longer counts. */
  succeeded(): void;
}

/**
 * Login attempts per key (a client address, a user name) in a sliding window.
 * An attempt counts from its start, before the password is checked, so
 * attempts sent at once cannot pass the limit together; a login that
 * succeeds gives its attempt back. Once `limit` attempts fall within
 * `windowMs`, further ones are refused until the oldest has aged out.
 */
export class LoginLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Count an attempt on every key, unless one of them is at its limit. */
  begin(keys: readonly string[]): LoginAttempt {
    const waitMs = Math.max(0, ...keys.map((k) => this.waitFor(k)));
    if (waitMs > 0) return { waitMs, succeeded: () => undefined };
    const t = this.now();
    for (const key of keys) this.attempts.set(key, [...this.recent(key), t]);
    if (this.attempts.size > this.maxKeys) this.prune();
    let open = true;
    return {
      waitMs: 0,
      succeeded: () => {
        if (!open) return;
        open = false;
        for (const key of keys) {
          const list = this.attempts.get(key);
          const i = list ? list.lastIndexOf(t) : -1;
          if (i >= 0) list!.splice(i, 1);
        }
      },
    };
  }

  /** Milliseconds until `key` may try again, or 0 when it may now. */
  private waitFor(key: string): number {
    const list = this.recent(key);
    if (list.length < this.limit) return 0;
    return Math.max(1, list[list.length - this.limit]! + this.windowMs - this.now());
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.attempts.get(key) ?? []).filter((t) => t > since);
    if (list.length) this.attempts.set(key, list);
    else this.attempts.delete(key);
    return list;
  }

  private prune(): void {
    for (const key of [...this.attempts.keys()]) this.recent(key);
    // Still too many (a flood of distinct keys): forget the oldest half rather than grow without bound.
    if (this.attempts.size > this.maxKeys) {
      let drop = Math.floor(this.attempts.size / 2);
      for (const key of this.attempts.keys()) {
        if (drop-- <= 0) break;
        this.attempts.delete(key);
      }
    }
  }
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    let value = part.slice(i + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/**
 * A cookie the page's scripts cannot read and no other site's page can make
 * the browser send; `Secure` (sent over TLS only) when the page is served over TLS.
 */
export function cookie(name: string, value: string, opts: { maxAgeSeconds?: number; secure?: boolean } = {}): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (opts.secure) parts.push('Secure');
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${opts.maxAgeSeconds}`);
  return parts.join('; ');
}

/**
 * Whether a POST comes from a page of this server: its Origin (or, when a
 * browser sent none, its Referer) names the host the request was sent to.
 * http and https both count, so a TLS proxy in front of the agent works.
 * A request naming neither is refused: every browser sends at least one of
 * them with a form.
 */
export function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const host = headers.host?.toLowerCase();
  if (!host) return false;
  const origin = headers.origin;
  const source = origin !== undefined ? origin : headers.referer;
  if (source === undefined || source === 'null') return false;
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return url.host.toLowerCase() === host;
}

/** A path a browser cannot read as another host: printable ASCII, no space, no backslash, no `//`. */
function plainPath(p: string): boolean {
  return /^\/[\x21-\x5b\x5d-\x7e]*$/.test(p) && !p.includes('//');
}

/**
 * A `next` target after login: a plain path on this server, or `/`. Browsers
 * drop tabs and newlines and read a backslash as `/`, so `/<tab>/evil.example` would
 * lead to another site, and a control character cannot go into a header at
 * all. The path must stay plain when percent-decoded, as often as that changes it.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || next.length > 2000) return '/';
  let p = next;
  for (let round = 0; round < 4; round++) {
    if (!plainPath(p)) return '/';
    let decoded: string;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      return '/';
    }
    if (decoded === p) return next;
    p = decoded;
  }
  return '/';
}
