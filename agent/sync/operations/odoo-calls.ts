import { createHash } from 'node:crypto';
import { classifyLoadMessages } from '../../odoo/classify';
import { OdooError, type LoadResult } from '../../odoo/types';
import { OperationError, type OperationContext } from './types';

/**
 * Small building blocks every operation shares: keyed loads, reads, state
 * checks and the formats Odoo expects on the wire. Nothing here decides what
 * an event means; that is each operation's job.
 */

/** Context for every load(): naive datetimes in the rows are UTC. */
export const LOAD_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({ tz: 'UTC' });

/**
 * What a keyed load does when the external id already exists:
 *   upsert  write the row's values over the record (the event carries the truth);
 *   create  leave the record exactly as it is and only return its id (a replay
 *           must not overwrite what a person changed since, nor touch a done move).
 * Either way a record created here is flagged `noupdate` on its external id;
 * `create` relies on that flag (Odoo's "update mode" skips such records).
 */
export type KeyedLoadMode = 'upsert' | 'create';

const KEY_MAX = 120;

/**
 * A key turned into a safe external-id name: letters, digits, `_` and `-`.
 * When anything had to change (or the key is long), a short hash of the
 * original is appended, so `WH/MO/1` and `WH_MO_1` never share a name.
 */
export function sanitizeKey(key: string): string {
  const clean = key.replace(/[^A-Za-z0-9_-]/g, '_');
  if (clean === key && key.length <= KEY_MAX) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  return `${clean.slice(0, KEY_MAX)}_${hash}`;
}

/** `<module>.<kind>_<key>`: the external id of the record an event creates. */
export function externalId(module: string, kind: string, key: string): string {
  return `${module}.${kind}_${sanitizeKey(key)}`;
}

/** A UTC time with a day that every month has: nothing to convert or check. */
const PLAIN_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/;
const UTC_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * An ISO time with offset as Odoo's naive UTC datetime text: `2026-11-26 08:00:05`.
 * A date that does not exist (February 30, hour 24) is refused, not rolled over.
 */
export function odooDatetime(iso: string): string {
  if (PLAIN_UTC.test(iso)) return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new OperationError('BAD_TIME', `not a time: ${JSON.stringify(iso)}`);
  const utc = new Date(ms).toISOString();
  if (UTC_ISO.test(iso) && utc.slice(0, 19) !== iso.slice(0, 19)) throw new OperationError('BAD_TIME', `not a time: ${JSON.stringify(iso)}`);
  return `${utc.slice(0, 10)} ${utc.slice(11, 19)}`;
}

/** A number as load() reads it (no exponent, no locale). */
export function loadNumber(n: number): string {
  if (!Number.isFinite(n)) throw new OperationError('BAD_NUMBER', `not a number: ${n}`);
  // 15 significant digits avoid 0.1+0.2 noise; strip trailing zeros.
  return String(Number(n.toPrecision(15)));
}

/** Two quantities equal within Odoo's usual rounding (1e-6 of the unit). */
export function sameQuantity(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-6;
}

/**
 * One load() with external ids in the first column (`id`). Returns Odoo's ids
 * in row order. A refused load (HTTP 200 with error messages) throws the
 * classified OdooError: a serialization conflict retries, anything else parks.
 */
export async function keyedLoad(ctx: OperationContext, model: string, fields: string[], rows: string[][], mode: KeyedLoadMode): Promise<number[]> {
  if (fields[0] !== 'id') throw new Error(`keyedLoad(${model}): the first column must be "id"`);
  const context: Record<string, unknown> = { ...LOAD_CONTEXT, noupdate: true };
  if (mode === 'create') context.mode = 'update';
  const result = await ctx.odoo.call<LoadResult>(model, 'load', { kwargs: { fields, data: rows }, context });
  const failure = classifyLoadMessages(result ?? { ids: false, messages: [] });
  if (failure) throw failure;
  const ids = result.ids;
  if (!Array.isArray(ids) || ids.length !== rows.length) {
    throw new OdooError(`load() into ${model} returned ${Array.isArray(ids) ? ids.length : 'no'} ids for ${rows.length} rows`, {
      action: 'park',
      code: 'ODOO_LOAD_FAILED',
      odooName: 'load',
    });
  }
  return ids;
}

/** search_read with a domain; an empty list when nothing matches. */
export function searchRead<T = Record<string, unknown>>(
  ctx: Pick<OperationContext, 'odoo'>,
  model: string,
  domain: unknown[],
  fields: string[],
  opts: { limit?: number; order?: string; context?: Record<string, unknown> } = {},
): Promise<T[]> {
  const kwargs: Record<string, unknown> = { domain, fields };
  if (opts.limit !== undefined) kwargs.limit = opts.limit;
  if (opts.order !== undefined) kwargs.order = opts.order;
  return ctx.odoo.call<T[]>(model, 'search_read', { kwargs, context: opts.context }).then((r) => r ?? []);
}

/** Read one record by id; an OperationError (park) naming it when it is gone. */
export async function readOne<T = Record<string, unknown>>(
  ctx: Pick<OperationContext, 'odoo'>,
  model: string,
  id: number,
  fields: string[],
  what: string,
): Promise<T> {
  const rows = await searchRead<T>(ctx, model, [['id', '=', id]], fields, { limit: 1 });
  const row = rows[0];
  if (!row) throw new OperationError('RECORD_GONE', `${what} (${model} id ${id}) no longer exists in Odoo`);
  return row;
}

/** write() absolute values on records. */
export async function writeValues(ctx: OperationContext, model: string, ids: number[], vals: Record<string, unknown>): Promise<void> {
  await ctx.odoo.call(model, 'write', { ids, kwargs: { vals } });
}

/** The id of a many2one value as Odoo reads it (`[id, name]` or false). */
export function m2oId(v: unknown): number | undefined {
  if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
  if (typeof v === 'number') return v;
  return undefined;
}

/** The display name of a many2one value. */
export function m2oName(v: unknown): string | undefined {
  if (Array.isArray(v) && typeof v[1] === 'string') return v[1];
  return undefined;
}

/**
 * A button that returned an action (a dict) instead of True: Odoo wants a
 * person to decide (backorder, consumption, missing lot, not enough stock).
 */
export function describeAction(result: unknown): string | undefined {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return undefined;
  const a = result as { res_model?: unknown; name?: unknown; tag?: unknown; type?: unknown };
  const parts = [a.res_model, a.name, a.tag].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length > 0 ? parts.join(' / ') : String(a.type ?? 'an action');
}

/**
 * Run `fn` for each event and collect an outcome or an error per event, in
 * input order: the default executeBatch for operations that cannot share a call.
 */
export async function eachEvent<E, R>(events: E[], fn: (e: E) => Promise<R>): Promise<Array<R | Error>> {
  const out: Array<R | Error> = [];
  for (const e of events) {
    try {
      out.push(await fn(e));
    } catch (err) {
      out.push(err instanceof Error ? err : new Error(String(err)));
    }
  }
  return out;
}

/**
 * The record id behind an external id, or undefined when there is none.
 * Uses ir.model.data.check_object_reference, which a user without access to
 * ir.model.data may call; Odoo answers a missing id with a ValueError
 * ("External ID not found in the system"), which is the "no" here.
 */
export async function findExternalId(ctx: OperationContext, xmlid: string): Promise<number | undefined> {
  const dot = xmlid.indexOf('.');
  try {
    const r = await ctx.odoo.call<[string, number | false]>('ir.model.data', 'check_object_reference', {
      kwargs: { module: xmlid.slice(0, dot), xml_id: xmlid.slice(dot + 1) },
    });
    return Array.isArray(r) && typeof r[1] === 'number' ? r[1] : undefined;
  } catch (err) {
    if (err instanceof OdooError && /External ID not found/i.test(err.message)) return undefined;
    throw err;
  }
}
