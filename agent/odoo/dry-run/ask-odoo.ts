import { modelExists } from '../introspect';
import type { ClockOffset } from '../server-clock';
import { OdooError, type OdooClient, type OdooServerInfo } from '../types';
import { ASKED_MODULES, type Questions } from './plan';

/**
 * The questions of a dry run, asked with the agent's own credentials: what a
 * plain Odoo user can ask. Batched: one search_read per model for all the
 * names of that model, one fields_get per model, one question per model and
 * right. A refusal of one question is kept as its answer; only a failure
 * that stops every question (Odoo away, the key refused) is thrown.
 */

/** The field attributes the dry run reads. */
export interface FieldInfo {
  type: string;
  string?: string;
  relation?: string;
  readonly?: boolean;
}

/** One record that matched a name. */
export interface NameMatch {
  id: number;
  /** The values of the lookup fields, and display_name, active, state when the model has them. */
  values: Record<string, unknown>;
  active: boolean;
}

export interface NameAnswer {
  /** Records per name asked (archived ones included). */
  matches: Map<string, NameMatch[]>;
  /** Values of the lookup fields of the model's active records, for "closest" hints (at most CANDIDATE_LIMIT records). */
  candidates: string[];
  /** Set when Odoo refused or failed the lookup. */
  failure?: string;
}

export interface OdooFacts {
  server: OdooServerInfo;
  user: { uid: number; login?: string; name?: string };
  /** Installed modules among ASKED_MODULES. */
  apps: Set<string>;
  clock?: ClockOffset;
  /** Fields per model; null when Odoo has no such model. */
  fields: Map<string, Record<string, FieldInfo> | null>;
  /** Why fields_get failed for a model, other than "no such model". */
  fieldFailures: Map<string, string>;
  names: Map<string, NameAnswer>;
  /** `model:right` -> allowed; absent when it could not be asked (with rightFailures). */
  rights: Map<string, boolean>;
  rightFailures: Map<string, string>;
  groups: Map<string, boolean>;
  internalPickingType?: boolean;
}

/** Records read for "closest" hints per model. */
export const CANDIDATE_LIMIT = 2000;

/** Calls at once: the client's pool decides the rest. */
const PARALLEL = 4;

/** A model's presence tells whether its module is installed, for a user who may not read ir.module.module. */
const MARKER_MODELS: Record<(typeof ASKED_MODULES)[number], string> = {
  stock: 'stock.picking',
  mrp: 'mrp.production',
  maintenance: 'maintenance.request',
  quality_control: 'quality.check',
  quality_control_oca: 'qc.inspection',
  product: 'product.product',
  uom: 'uom.uom',
};

/** Connect, and learn who the agent is and what Odoo has. */
export async function askBasics(client: OdooClient): Promise<Pick<OdooFacts, 'server' | 'user' | 'apps'>> {
  const server = await client.connect();
  const ctx = await client.call<{ uid?: number }>('res.users', 'context_get');
  const uid = typeof ctx?.uid === 'number' ? ctx.uid : 0;
  const user: OdooFacts['user'] = { uid };
  if (uid > 0) {
    try {
      const me = await client.call<Array<{ login?: string; name?: string }>>('res.users', 'read', { ids: [uid], kwargs: { fields: ['login', 'name'] } });
      if (me?.[0]) Object.assign(user, { login: me[0].login, name: me[0].name });
    } catch (err) {
      refusedOnly(err);
    }
  }
  return { server, user, apps: await installedApps(client) };
}

async function installedApps(client: OdooClient): Promise<Set<string>> {
  try {
    const rows = await client.call<Array<{ name: string }>>('ir.module.module', 'search_read', {
      kwargs: {
        domain: [
          ['name', 'in', [...ASKED_MODULES]],
          ['state', '=', 'installed'],
        ],
        fields: ['name'],
      },
    });
    return new Set((rows ?? []).map((r) => r.name));
  } catch (err) {
    refusedOnly(err);
    const apps = new Set<string>();
    for (const module of ASKED_MODULES) if (await modelExists(client, MARKER_MODELS[module])) apps.add(module);
    return apps;
  }
}

/** Ask every question of the plan. */
export async function askQuestions(client: OdooClient, basics: Pick<OdooFacts, 'server' | 'user' | 'apps'>, q: Questions): Promise<OdooFacts> {
  const facts: OdooFacts = {
    ...basics,
    fields: new Map(),
    fieldFailures: new Map(),
    names: new Map(),
    rights: new Map(),
    rightFailures: new Map(),
    groups: new Map(),
  };
  const major = basics.server.major;

  await inTurn([...q.fieldModels].map((model) => () => readFields(client, model, facts)));

  const tasks: Array<() => Promise<void>> = [];
  for (const [model, { spec, names }] of q.lookups) {
    tasks.push(async () => {
      const fields = facts.fields.get(model);
      if (fields === null) return;
      facts.names.set(model, await lookUp(client, model, spec.fields, [...names], fields));
    });
  }
  for (const key of q.rights) {
    const [model, right] = key.split(':') as [string, string];
    tasks.push(async () => {
      if (facts.fields.get(model) === null) return;
      try {
        facts.rights.set(key, await hasRight(client, model, right, major));
      } catch (err) {
        facts.rightFailures.set(key, refusedOnly(err));
      }
    });
  }
  for (const group of q.groups) {
    tasks.push(async () => {
      const params = major >= 18 ? { ids: [basics.user.uid], kwargs: { group_ext_id: group } } : { kwargs: { group_ext_id: group } };
      const yes = await client.call<boolean>('res.users', 'has_group', params).catch((err: unknown) => {
        refusedOnly(err);
        return undefined;
      });
      if (typeof yes === 'boolean') facts.groups.set(group, yes);
    });
  }
  if (q.internalPickingType) {
    tasks.push(async () => {
      try {
        const n = await client.call<number>('stock.picking.type', 'search_count', {
          kwargs: { domain: [['code', '=', 'internal']] },
          context: { active_test: false },
        });
        facts.internalPickingType = typeof n === 'number' && n > 0;
      } catch (err) {
        refusedOnly(err);
      }
    });
  }
  await inTurn(tasks);
  facts.clock = client.serverClock?.();
  return facts;
}

async function readFields(client: OdooClient, model: string, facts: OdooFacts): Promise<void> {
  try {
    const fields = await client.call<Record<string, FieldInfo>>(model, 'fields_get', { kwargs: { attributes: ['type', 'string', 'relation', 'readonly'] } });
    facts.fields.set(model, fields ?? {});
  } catch (err) {
    if (isNoSuchModel(err)) facts.fields.set(model, null);
    else facts.fieldFailures.set(model, refusedOnly(err));
  }
}

/** One search_read for all names (archived records too), then the active records' names for hints when some are missing. */
async function lookUp(
  client: OdooClient,
  model: string,
  matchFields: string[],
  names: string[],
  fields: Record<string, FieldInfo> | undefined,
): Promise<NameAnswer> {
  const known = (f: string) => fields === undefined || f in fields;
  const usable = matchFields.filter(known);
  const hasActive = fields !== undefined && 'active' in fields;
  const read = [...usable, 'display_name', ...(hasActive ? ['active'] : []), ...(fields !== undefined && 'state' in fields ? ['state'] : [])];
  const answer: NameAnswer = { matches: new Map(names.map((n) => [n, []])), candidates: [] };
  if (usable.length === 0) return { ...answer, failure: `${model} has none of the fields ${matchFields.join(', ')}` };
  const domain: unknown[] = [];
  for (let i = 1; i < usable.length; i++) domain.push('|');
  for (const f of usable) domain.push([f, 'in', names]);
  try {
    const rows = await client.call<Array<Record<string, unknown> & { id: number }>>(model, 'search_read', {
      kwargs: { domain, fields: read },
      context: hasActive ? { active_test: false } : {},
    });
    for (const row of rows ?? []) {
      for (const name of names) {
        if (usable.some((f) => row[f] === name)) answer.matches.get(name)!.push({ id: row.id, values: row, active: row.active !== false });
      }
    }
    const missing = [...answer.matches.values()].some((list) => !list.some((r) => r.active));
    if (missing) {
      const all = await client.call<Array<Record<string, unknown>>>(model, 'search_read', {
        kwargs: { domain: [], fields: usable, limit: CANDIDATE_LIMIT, order: 'id desc' },
      });
      for (const row of all ?? []) for (const f of usable) if (typeof row[f] === 'string' && row[f] !== '') answer.candidates.push(row[f]);
    }
  } catch (err) {
    answer.failure = refusedOnly(err);
  }
  return answer;
}

/**
 * Model access rights of the agent's own user: `has_access` on an empty
 * recordset (Odoo 18+), `check_access_rights(raise_exception=False)` on 17
 * (deprecated since 18, still answering on 19).
 */
async function hasRight(client: OdooClient, model: string, right: string, major: number): Promise<boolean> {
  const ask = (modern: boolean) =>
    modern
      ? client.call<boolean>(model, 'has_access', { ids: [], kwargs: { operation: right } })
      : client.call<boolean>(model, 'check_access_rights', { kwargs: { operation: right, raise_exception: false } });
  try {
    return (await ask(major >= 18)) === true;
  } catch (err) {
    // A server whose version says otherwise (a pinned version, a saas release): try the other.
    if (!isNoSuchMethod(err)) throw err;
    return (await ask(major < 18)) === true;
  }
}

function isNoSuchModel(err: unknown): boolean {
  if (!(err instanceof OdooError)) return false;
  if (err.status === 404 && /model .* does not exist/i.test(err.message)) return true;
  return err.odooName === 'odoo.exceptions.UserError' && /Object \S+ doesn't exist/.test(err.message);
}

function isNoSuchMethod(err: unknown): boolean {
  if (!(err instanceof OdooError)) return false;
  return (err.status === 404 && /method/i.test(err.message)) || err.odooName === 'builtins.AttributeError';
}

/**
 * A refusal or a failure of this one question (an AccessError, a field that
 * is not there): its message, to report. Odoo away or the key refused stops
 * the whole dry run: thrown.
 */
function refusedOnly(err: unknown): string {
  if (err instanceof OdooError && err.action !== 'park') throw err;
  return err instanceof Error ? err.message : String(err);
}

/** Run tasks, at most PARALLEL at once. */
async function inTurn(tasks: Array<() => Promise<void>>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, tasks.length) }, worker));
}
