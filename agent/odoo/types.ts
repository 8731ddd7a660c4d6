import { Failure, type FailureAction } from '../errors';
import type { ClockOffset } from './server-clock';

/**
 * One interface over Odoo's two external APIs: JSON-2 (`/json/2/<model>/<method>`,
 * Odoo 19+) and JSON-RPC (`/jsonrpc` execute_kw, Odoo 17-18).
 */

export type OdooProtocol = 'json2' | 'jsonrpc';

export interface OdooServerInfo {
  /** Major version (17, 18, 19, ...). */
  major: number;
  /** Full server version string as Odoo reports it (`19.0`, `18.0-20250101`, `saas~18.3`). */
  serverVersion: string;
  protocol: OdooProtocol;
  /** The company the agent works for (`odoo.company`), sent as `allowed_company_ids` in every call's context; undefined when none is configured. */
  companyId?: number;
  /** The plant's warehouse (`odoo.warehouse`), when configured. */
  warehouseId?: number;
}

export interface CallParams {
  /** Record ids for methods on records (`write`, `button_start`); omit for model methods (`create`, `load`, `search_read`). */
  ids?: number[];
  /** Named arguments of the method (`{ fields, data }` for load, `{ domain, fields }` for search_read, `{ vals }` for write). */
  kwargs?: Record<string, unknown>;
  /** Odoo context; merged over the client's default context (`tz: 'UTC'`). */
  context?: Record<string, unknown>;
}

export interface OdooClient {
  /** Detect (or take the pinned) version and authenticate. Throws OdooError on failure. */
  connect(): Promise<OdooServerInfo>;
  /** Known after connect(). */
  readonly info: OdooServerInfo | undefined;
  /** Call one method; resolves with Odoo's result (`undefined` when the method returned None). Throws OdooError. */
  call<T = unknown>(model: string, method: string, params?: CallParams): Promise<T>;
  /** A cheap request that proves Odoo answers and the key is accepted (the circuit breaker's probe). */
  probe(): Promise<void>;
  /** Odoo's clock against this gateway's, from the Date headers of the answers so far; undefined before any. */
  serverClock?(): ClockOffset | undefined;
  close(): Promise<void>;
}

/** What to do about a failed Odoo call (an Odoo call never hands an event back unsent). */
export type ErrorAction = Exclude<FailureAction, 'release'>;

/**
 * Every failure of an Odoo call becomes an OdooError with its classification
 * (agent/odoo/classify.ts is the only place that decides it).
 */
export class OdooError extends Failure {
  declare readonly action: ErrorAction;
  /** Odoo's exception name (`odoo.exceptions.UserError`) or the transport error's code (`ECONNREFUSED`). */
  readonly odooName: string | undefined;
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** From a Retry-After header, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { action: ErrorAction; code: string; odooName?: string; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(opts.code, message, { action: opts.action, cause: opts.cause });
    this.name = 'OdooError';
    this.odooName = opts.odooName;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Result of `model.load(fields, data)`: `ids` is false when any row failed; read `messages` always. */
export interface LoadResult {
  ids: number[] | false;
  messages: Array<{ type: string; message: string; record?: number; rows?: { from: number; to: number }; field?: string }>;
  nextrow?: number | false;
}
