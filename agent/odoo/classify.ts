import { OdooError, type ErrorAction, type LoadResult } from './types';

/**
 * The one place that decides what a failed Odoo call means for the event that
 * caused it (docs/odoo-client.md, "Classifying failures"):
 *   retry  the event's own transient trouble (a lock conflict, 429, a 5xx
 *          answer): it keeps its place and is sent again after a back-off;
 *   down   no answer at all (refused, reset, DNS, timeout): the link is down,
 *          not the event; it goes back unsent and sending pauses until a probe answers;
 *   park   the event needs a person (Odoo's message is kept with it);
 *   stop   nothing can succeed until a person fixes the connection (key, TLS,
 *          database name): pause all sending and raise an alarm; park nothing.
 *
 * Everything here is pure: the client describes what happened as an
 * OdooFailure and gets back the decision.
 */

/** What went wrong with one request, as the client saw it. */
export interface OdooFailure {
  /** Error code of a transport failure (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, `CERT_HAS_EXPIRED`). */
  transportCode?: string;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** The raw Retry-After header (seconds or an HTTP date). */
  retryAfter?: string;
  /** Odoo's exception name (`odoo.exceptions.UserError`, `psycopg2.errors.SerializationFailure`, `werkzeug.exceptions.NotFound`). */
  name?: string;
  /** Odoo's message, or a description of the failure. */
  message: string;
  /** Clock for an HTTP-date Retry-After (ms since epoch); defaults to Date.now(). */
  nowMs?: number;
}

export interface Classification {
  action: ErrorAction;
  /** Stable code for logs, metrics and the exception queue. */
  code: string;
  retryAfterMs?: number;
}

/** Odoo's own retry gives up on these after 5 tries: heavy contention, so back off and try again. */
const CONCURRENCY_NAMES = new Set([
  'SerializationFailure',
  'DeadlockDetected',
  'LockNotAvailable',
  'ConcurrencyError',
  'LockError',
  'TransactionRollbackError',
]);

/** Transient trouble between Odoo and its database. */
const DATABASE_TRANSIENT_NAMES = new Set(['OperationalError', 'PoolError', 'InterfaceError']);

/** Wrong data or a state the record is not in: a person must look at the event. */
const PARK_NAMES: Record<string, string> = {
  UserError: 'ODOO_USER_ERROR',
  ValidationError: 'ODOO_VALIDATION',
  MissingError: 'ODOO_MISSING',
  AccessError: 'ODOO_ACCESS',
  RedirectWarning: 'ODOO_USER_ERROR',
  ValueError: 'ODOO_BAD_REQUEST',
  TypeError: 'ODOO_BAD_REQUEST',
  KeyError: 'ODOO_BAD_REQUEST',
  IndexError: 'ODOO_BAD_REQUEST',
  AttributeError: 'ODOO_BAD_REQUEST',
  NotFound: 'ODOO_NOT_FOUND',
  BadRequest: 'ODOO_BAD_REQUEST',
  UnprocessableEntity: 'ODOO_BAD_REQUEST',
  UnsupportedMediaType: 'ODOO_BAD_REQUEST',
  MethodNotAllowed: 'ODOO_BAD_REQUEST',
  RequestEntityTooLarge: 'ODOO_TOO_LARGE',
  IntegrityError: 'ODOO_VALIDATION',
};

/** The key, the login or the session is refused. */
const AUTH_NAMES = new Set(['AccessDenied', 'Unauthorized', 'SessionExpiredException', 'Forbidden']);

/** TLS failures: the server cannot be trusted as configured; retrying will not change that. */
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/** Messages that mean a concurrency conflict whatever exception carries them. */
const CONCURRENCY_MESSAGE = /could not serialize access|deadlock detected|could not obtain lock|concurrent update/i;
/**
 * UserErrors that are really a missing right: Odoo 17 refuses an inventory
 * adjustment to anyone outside Inventory / Administrator with a UserError,
 * not an AccessError. Classified as the AccessError would be (ODOO_ACCESS).
 */
const RIGHTS_MESSAGE = /Only a stock manager can validate an inventory adjustment/i;

/**
 * Odoo refusing a date in a period its accounting has locked, as real Odoo
 * words it: 17 "You cannot add/modify entries prior to and inclusive of the
 * lock date 12/31/2021." and 18/19 "... prior to and inclusive of: Global Lock
 * Date (12/31/2021)." (UserError); 19's transfers "You cannot modify the
 * scheduled date of this operation because it falls within a locked fiscal
 * period." (ValidationError). Parked like any UserError, under their own code.
 */
const LOCK_DATE_MESSAGE = /prior to and inclusive of|falls within a locked fiscal period/i;

/** Whether Odoo refused the call because a date lies in a locked accounting period. */
export function isLockDateRefusal(err: Error): boolean {
  return err instanceof OdooError && LOCK_DATE_MESSAGE.test(err.message);
}

/** allowed_company_ids names a company the agent's user does not belong to (odoo.company): every call fails alike. */
const COMPANY_MESSAGE = /unauthorized or invalid compan/i;
/** A database that does not exist (wrong `database:` in config): nothing will work until it is fixed. */
const NO_DATABASE_MESSAGE = /database "[^"]*" does not exist/i;

/** Last dotted part of an exception name: `odoo.exceptions.UserError` -> `UserError`. */
export function shortName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const i = name.lastIndexOf('.');
  return i < 0 ? name : name.slice(i + 1);
}

/** Parse Retry-After: delay seconds or an HTTP date; milliseconds from now, never negative. */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function byName(f: OdooFailure): Classification | undefined {
  const short = shortName(f.name);
  if (!short) return undefined;
  if (CONCURRENCY_NAMES.has(short)) return { action: 'retry', code: 'ODOO_CONCURRENCY' };
  if (AUTH_NAMES.has(short)) return { action: 'stop', code: 'ODOO_AUTH' };
  if (short === 'AccessError' && COMPANY_MESSAGE.test(f.message)) return { action: 'stop', code: 'ODOO_COMPANY' };
  if (DATABASE_TRANSIENT_NAMES.has(short)) {
    if (NO_DATABASE_MESSAGE.test(f.message)) return { action: 'stop', code: 'ODOO_NO_DATABASE' };
    return { action: 'retry', code: 'ODOO_DATABASE_UNAVAILABLE' };
  }
  if (RIGHTS_MESSAGE.test(f.message)) return { action: 'park', code: 'ODOO_ACCESS' };
  const park = PARK_NAMES[short];
  if (park) return { action: 'park', code: park };
  return undefined;
}

function byTransport(code: string): Classification {
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return { action: 'stop', code: 'ODOO_TLS' };
  if (TIMEOUT_CODES.has(code)) return { action: 'down', code: 'ODOO_TIMEOUT' };
  // ECONNREFUSED, ECONNRESET, ENOTFOUND, EAI_AGAIN, EPIPE, EHOSTUNREACH, ENETUNREACH,
  // UND_ERR_SOCKET, UND_ERR_CLOSED, UND_ERR_ABORTED and anything else on the way:
  // the network or the server is away; the event itself is fine.
  return { action: 'down', code: 'ODOO_UNREACHABLE' };
}

function byStatus(status: number, hasName: boolean): Classification {
  if (status === 401 || status === 407) return { action: 'stop', code: 'ODOO_AUTH' };
  // A 403 that carries no Odoo exception comes from a proxy or firewall in front of Odoo.
  if (status === 403) return { action: 'stop', code: 'ODOO_AUTH' };
  if (status === 429) return { action: 'retry', code: 'ODOO_RATE_LIMITED' };
  if (status === 409) return { action: 'retry', code: 'ODOO_CONCURRENCY' };
  if (status === 408) return { action: 'retry', code: 'ODOO_TIMEOUT' };
  if (status === 502 || status === 503 || status === 504) return { action: 'retry', code: 'ODOO_UNAVAILABLE' };
  // Odoo answers its JSON APIs with JSON: a 404 page without an exception name
  // means the database is not on this server (or the URL is not an Odoo API).
  if (status === 404) return hasName ? { action: 'park', code: 'ODOO_NOT_FOUND' } : { action: 'stop', code: 'ODOO_NO_DATABASE' };
  if (status === 413) return { action: 'park', code: 'ODOO_TOO_LARGE' };
  if (status >= 300 && status < 400) return { action: 'stop', code: 'ODOO_PROTOCOL' };
  if (status >= 400 && status < 500) return { action: 'park', code: status === 422 ? 'ODOO_USER_ERROR' : 'ODOO_BAD_REQUEST' };
  // 500 with an unknown exception name: a programming error in Odoo or our call; it will fail again.
  if (status === 500 && hasName) return { action: 'park', code: 'ODOO_SERVER_ERROR' };
  // A 5xx without Odoo's JSON body comes from whatever stands in front of Odoo (or Odoo restarting).
  if (status >= 500) return { action: 'retry', code: 'ODOO_UNAVAILABLE' };
  return { action: 'retry', code: 'ODOO_BAD_RESPONSE' };
}

/** Decide retry / park / stop for one failure. Pure. */
export function classify(f: OdooFailure): Classification {
  let c: Classification;
  if (f.transportCode !== undefined) {
    c = byTransport(f.transportCode);
  } else if (CONCURRENCY_MESSAGE.test(f.message) && !AUTH_NAMES.has(shortName(f.name) ?? '')) {
    c = { action: 'retry', code: 'ODOO_CONCURRENCY' };
  } else {
    const named = byName(f);
    if (named) c = named;
    else if (f.status !== undefined && f.status !== 200) c = byStatus(f.status, f.name !== undefined);
    else if (f.name !== undefined) c = { action: 'park', code: 'ODOO_SERVER_ERROR' };
    // HTTP 200 that is not a usable answer (a captive portal, a truncated body): the path to Odoo is broken.
    else c = { action: 'retry', code: 'ODOO_BAD_RESPONSE' };
  }
  if (c.action === 'retry') {
    const ms = parseRetryAfter(f.retryAfter, f.nowMs);
    if (ms !== undefined) c = { ...c, retryAfterMs: ms };
  }
  return c;
}

/** Build the OdooError for a failure (the client throws it). */
export function odooError(f: OdooFailure, cause?: unknown): OdooError {
  const c = classify(f);
  // Named once: Odoo's exception, else the HTTP status or the transport code, unless the text already says it.
  const who = shortName(f.name) ?? (f.status !== undefined ? `HTTP ${f.status}` : f.transportCode);
  const text = explainOdooMessage(f.message);
  const message = who && !text.includes(who) ? `${who}: ${text}` : text;
  return new OdooError(message, {
    action: c.action,
    code: c.code,
    odooName: f.name ?? f.transportCode,
    status: f.status,
    retryAfterMs: c.retryAfterMs,
    cause,
  });
}

/** The code of a Node / undici error, following `cause` (undici wraps socket errors). */
export function transportCodeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR') return code;
    const next = (e as { cause?: unknown }).cause;
    if (!next) return typeof code === 'string' ? code : undefined;
    e = next;
  }
  return undefined;
}

/**
 * Any error thrown while talking to Odoo, as an OdooError. An OdooError passes
 * through; a transport error is classified by its code; anything else (a bug)
 * parks, so one bad event cannot stall the plant's whole backlog.
 */
export function toOdooError(err: unknown): OdooError {
  if (err instanceof OdooError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = transportCodeOf(err);
  if (code !== undefined) return odooError({ transportCode: code, message }, err);
  return new OdooError(message, { action: 'park', code: 'ODOO_CLIENT_ERROR', cause: err });
}

/** A message that `load()` put into `messages`. */
export type LoadMessage = LoadResult['messages'][number];

/**
 * A `load()` answers HTTP 200 even when it failed: `ids` is false and
 * `messages` holds the reasons. Returns undefined when the load went through
 * (warnings alone are not a failure), else the OdooError to throw:
 * a serialization conflict retries; anything else parks with the messages.
 */
export function classifyLoadMessages(result: LoadResult): OdooError | undefined {
  const messages = Array.isArray(result.messages) ? result.messages : [];
  const errors = messages.filter((m) => m.type === 'error');
  if (result.ids !== false && errors.length === 0) return undefined;
  const shown = (errors.length > 0 ? errors : messages).map(describeLoadMessage);
  const text = shown.length > 0 ? explainOdooMessage(shown.join('; ')) : 'load() returned no ids and no message';
  if (messages.some((m) => CONCURRENCY_MESSAGE.test(m.message))) {
    return new OdooError(`load() conflict: ${text}`, { action: 'retry', code: 'ODOO_CONCURRENCY', odooName: 'load' });
  }
  return new OdooError(`load() refused: ${text}`, { action: 'park', code: 'ODOO_LOAD_FAILED', odooName: 'load' });
}

/**
 * Odoo's words for a foreign-key violation, about deleting whatever the call
 * did: 19 (odoo/orm/models.py) and 17/18 (odoo/service/model.py). Not the 17/18
 * missing-required-value text, which lists "Delete: another model requires
 * the record being deleted" as one of two causes.
 */
const BROKEN_LINK = /Another model is using the record you are trying to delete|cannot be completed: another model requires the record being deleted/;

/**
 * Odoo's message with what it means for the agent added where Odoo's words
 * mislead: the agent deletes nothing, so Odoo's foreign-key message ("trying
 * to delete ... archiving") means a record the event refers to is gone.
 */
export function explainOdooMessage(message: string): string {
  if (!BROKEN_LINK.test(message)) return message;
  return `${message} [the agent deletes nothing: Odoo words every broken link this way; a record this event refers to (a work center, product, order, lot...) no longer exists in Odoo]`;
}

function describeLoadMessage(m: LoadMessage): string {
  const where: string[] = [];
  if (typeof m.record === 'number') where.push(`row ${m.record + 1}`);
  if (m.field) where.push(`field ${m.field}`);
  return where.length > 0 ? `${where.join(', ')}: ${m.message}` : m.message;
}
