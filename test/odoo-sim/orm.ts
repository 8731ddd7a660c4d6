/**
 * A small in-memory stand-in for Odoo's ORM: records per model, external ids
 * (ir.model.data), domains, the generic methods every model has (create,
 * write, read, search, search_read, search_count, name_search, unlink, load,
 * fields_get) and one transaction per call (all or nothing), with Odoo's
 * error names and messages where the simulator was checked against real Odoo.
 */
import { accessError, missingError, OdooException, typeError, userError, validationError, valueError } from './errors';

export interface Rec {
  id: number;
  [field: string]: unknown;
}

export type FieldType =
  'char' | 'text' | 'html' | 'integer' | 'float' | 'boolean' | 'selection' | 'many2one' | 'one2many' | 'many2many' | 'date' | 'datetime' | 'reference' | 'json';

export interface FieldDef {
  type: FieldType;
  /** The label Odoo shows (and uses in messages). */
  string: string;
  /** Target model of a relational field. */
  relation?: string;
  /** For one2many: the many2one field on the target that points back. */
  inverse?: string;
  required?: boolean;
  /** Selection values; for a reference field, the models it may point at. */
  selection?: Array<[string, string]>;
  default?: unknown | ((env: Env, vals: Record<string, unknown>) => unknown);
  /** Computed when read or searched; values written to it are ignored (as Odoo does for a computed field without inverse). */
  compute?: (env: Env, rec: Rec) => unknown;
  /** A computed field Odoo keeps in the database (only what fields_get reports). */
  stored?: boolean;
  readonly?: boolean;
}

export interface MethodDef {
  /** `model` methods take no ids (@api.model); `records` methods act on ids. */
  api: 'model' | 'records';
  /** Parameter names in positional order (after the ids). */
  params?: string[];
  /** How many of `params` are required. */
  required?: number;
  run: (env: Env, ids: number[], kw: Record<string, unknown>) => unknown;
}

export interface ModelDef {
  name: string;
  description: string;
  /** Module that provides the model; it exists only while that module is installed. */
  module: string;
  fields: Record<string, FieldDef>;
  /** Field that gives the display name (default `name`). */
  recName?: string;
  displayName?: (env: Env, rec: Rec) => string;
  /** Default order, e.g. `id` or `date_start desc, id`. */
  order?: string;
  methods?: Record<string, MethodDef>;
  /** Who may read and who may change it (default: any internal user). Not used when `acl` is set. */
  access?: { read?: 'admin' | 'user'; write?: 'admin' | 'user' };
  /**
   * Odoo's access rules (ir.model.access): a group and its rights in the
   * order of Odoo's CSV files, read write create unlink, `-` for none
   * (`['mrp.group_mrp_user', 'r---']`). A user has a right when one of the
   * user's groups has it.
   */
  acl?: ReadonlyArray<readonly [group: string, rights: string]>;
  /** Filled in before defaults, e.g. a sequence name. */
  prepareCreate?: (env: Env, vals: Record<string, unknown>) => void;
  /** Constraints and side effects after create/write. */
  afterWrite?: (env: Env, ids: number[], vals: Record<string, unknown>, created: boolean) => void;
  beforeUnlink?: (env: Env, ids: number[]) => void;
}

export interface SearchOptions {
  offset?: number;
  limit?: number | false | null;
  order?: string | false | null;
}

export type LoadMessage = {
  type: 'error' | 'warning';
  message: string;
  record?: number;
  rows?: { from: number; to: number };
  field?: string;
  field_name?: string;
  moreinfo?: unknown;
};

/** A model's fields sorted by what create() and the required check need (models are never changed once defined). */
interface ModelShape {
  /** Stored, non-one2many fields with a default. */
  defaulted: Array<[string, FieldDef]>;
  /** Stored, non-one2many fields (columns). */
  stored: Array<[string, FieldDef]>;
  required: Array<[string, FieldDef]>;
}
const shapes = new WeakMap<ModelDef, ModelShape>();
function shapeOf(def: ModelDef): ModelShape {
  let shape = shapes.get(def);
  if (!shape) {
    const stored = Object.entries(def.fields).filter(([, f]) => !f.compute && f.type !== 'one2many');
    shape = { stored, defaulted: stored.filter(([, f]) => f.default !== undefined), required: stored.filter(([, f]) => f.required) };
    shapes.set(def, shape);
  }
  return shape;
}

/** Groups that bring others with them (res.groups implied_ids in Odoo's data). */
const IMPLIED: Record<string, string[]> = {
  'mrp.group_mrp_manager': ['mrp.group_mrp_user'],
  'mrp.group_mrp_user': ['stock.group_stock_user'],
  'stock.group_stock_manager': ['stock.group_stock_user'],
  'stock.group_stock_user': ['base.group_user'],
  'maintenance.group_equipment_manager': ['base.group_user'],
};

/** A user's groups with every group they imply. */
export function withImpliedGroups(groups: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const add = (g: string) => {
    if (out.has(g)) return;
    out.add(g);
    for (const i of IMPLIED[g] ?? []) add(i);
  };
  for (const g of groups) add(g);
  return out;
}

const RIGHT_INDEX = { read: 0, write: 1, create: 2, unlink: 3 } as const;
export type AccessOperation = keyof typeof RIGHT_INDEX;

/** The store: all tables of one database, and the undo journal of the running call. */
export class Database {
  readonly models = new Map<string, ModelDef>();
  private readonly tables = new Map<string, Map<number, Rec>>();
  private readonly nextIds = new Map<string, number>();
  private readonly xmlIndex = new Map<string, number>();
  private readonly sequences = new Map<string, number>();
  private journal: Array<() => void> | undefined;
  readonly installed: Set<string>;
  /** Each user's groups (implied ones included); administrators pass every check anyway. */
  readonly userGroups = new Map<number, Set<string>>();

  constructor(
    readonly name: string,
    readonly version: number,
    installed: Iterable<string>,
    readonly clock: () => Date = () => new Date(),
  ) {
    this.installed = new Set(installed);
  }

  define(def: ModelDef): void {
    // Every Odoo model has these two magic columns, set by the ORM on each create and write.
    def.fields.create_date ??= { type: 'datetime', string: 'Created on', readonly: true };
    def.fields.write_date ??= { type: 'datetime', string: 'Last Updated on', readonly: true };
    this.models.set(def.name, def);
    if (!this.tables.has(def.name)) this.tables.set(def.name, new Map());
  }

  /** A model exists when its module is installed. */
  model(name: string): ModelDef | undefined {
    const def = this.models.get(name);
    if (!def || !this.installed.has(def.module)) return undefined;
    return def;
  }

  table(model: string): Map<number, Rec> {
    let t = this.tables.get(model);
    if (!t) {
      t = new Map();
      this.tables.set(model, t);
    }
    return t;
  }

  newId(model: string): number {
    const id = this.nextIds.get(model) ?? 1;
    this.nextIds.set(model, id + 1);
    return id;
  }

  /** Next value of a named sequence (like ir.sequence; not rolled back, as in PostgreSQL). */
  nextSequence(code: string): number {
    const n = (this.sequences.get(code) ?? 0) + 1;
    this.sequences.set(code, n);
    return n;
  }

  private setRaw(model: string, id: number, rec: Rec | undefined): void {
    const t = this.table(model);
    if (model === 'ir.model.data') {
      const prev = t.get(id);
      if (prev) this.xmlIndex.delete(`${String(prev.module)}.${String(prev.name)}`);
      if (rec) this.xmlIndex.set(`${String(rec.module)}.${String(rec.name)}`, id);
    }
    if (rec) t.set(id, rec);
    else t.delete(id);
  }

  /**
   * Store a record (new or changed); undone if the call fails. Stamps
   * `write_date` (and `create_date` when new) with the clock, to the second,
   * as Odoo reads them back.
   */
  put(model: string, rec: Rec): void {
    const prev = this.table(model).get(rec.id);
    this.journal?.push(() => this.setRaw(model, rec.id, prev));
    const at = formatDatetime(this.clock());
    this.setRaw(model, rec.id, Object.freeze({ ...rec, create_date: prev?.create_date ?? rec.create_date ?? at, write_date: at }) as Rec);
  }

  remove(model: string, id: number): void {
    const prev = this.table(model).get(id);
    if (!prev) return;
    this.journal?.push(() => this.setRaw(model, id, prev));
    this.setRaw(model, id, undefined);
  }

  get(model: string, id: number): Rec | undefined {
    return this.tables.get(model)?.get(id);
  }

  all(model: string): Rec[] {
    return [...this.table(model).values()];
  }

  xmlidRecord(full: string): Rec | undefined {
    const id = this.xmlIndex.get(full);
    return id === undefined ? undefined : this.get('ir.model.data', id);
  }

  /** Run fn as one transaction: every change is undone when it throws. */
  transaction<T>(fn: () => T): T {
    if (this.journal) return fn();
    this.journal = [];
    try {
      const result = fn();
      this.journal = undefined;
      return result;
    } catch (err) {
      this.rollbackJournal();
      throw err;
    }
  }

  /** Savepoint inside a transaction (load() uses one to drop a failed batch). */
  savepoint<T>(fn: () => T): T {
    const outer = this.journal;
    this.journal = [];
    try {
      const result = fn();
      const inner = this.journal;
      this.journal = outer;
      outer?.push(...inner);
      return result;
    } catch (err) {
      this.rollbackJournal();
      this.journal = outer;
      throw err;
    }
  }

  private rollbackJournal(): void {
    const j = this.journal ?? [];
    this.journal = undefined;
    for (let i = j.length - 1; i >= 0; i--) j[i]!();
  }
}

/** Odoo's datetime format on the wire: `2025-01-31 14:05:00`, UTC. */
export function formatDatetime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

const DATETIME_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Offset of a time zone from UTC at an instant, in ms. */
function tzOffsetMs(tz: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** A naive local time in `tz` to a UTC datetime string (what load() does with the user's time zone). */
export function localToUtc(local: string, tz: string): string {
  if (!tz || tz === 'UTC') return local;
  const [d, t] = local.split(' ');
  const [y, mo, da] = d!.split('-').map(Number);
  const [h, mi, s] = t!.split(':').map(Number);
  const guess = Date.UTC(y!, mo! - 1, da!, h!, mi!, s!);
  let utc = guess - tzOffsetMs(tz, guess);
  utc = guess - tzOffsetMs(tz, utc);
  return formatDatetime(new Date(utc));
}

type DomainTerm = unknown;

/** One call's environment: the user, the context, and the ORM operations. */
/** Sets of long `in` lists, per list (a domain's list is one array for the whole search). */
const IN_SETS = new WeakMap<unknown[], Set<unknown>>();

export class Env {
  constructor(
    readonly db: Database,
    readonly uid: number,
    readonly context: Record<string, unknown>,
    readonly isAdmin: boolean,
  ) {}

  get version(): number {
    return this.db.version;
  }

  withContext(extra: Record<string, unknown>): Env {
    return new Env(this.db, this.uid, { ...this.context, ...extra }, this.isAdmin);
  }

  /** A superuser environment (for side effects the user may not do directly, as Odoo's sudo()). */
  sudo(): Env {
    return new Env(this.db, this.uid, this.context, true);
  }

  now(): string {
    return formatDatetime(this.db.clock());
  }

  /** The companies the call works in: context allowed_company_ids, as Odoo reads it; undefined when the call names none. */
  get allowedCompanies(): number[] | undefined {
    const a = this.context.allowed_company_ids;
    return Array.isArray(a) ? (a as number[]) : undefined;
  }

  /** The company a new record gets: the first allowed company, else the user's. */
  currentCompany(): number | false {
    const allowed = this.allowedCompanies;
    if (allowed?.length) return allowed[0]!;
    const user = this.db.get('res.users', this.uid);
    return typeof user?.company_id === 'number' ? user.company_id : false;
  }

  /**
   * Odoo refuses a call whose allowed_company_ids names a company the user
   * does not belong to. (Records are filtered by company only when the call
   * names its companies; the simulator has no default company rule.)
   */
  checkCompanies(): void {
    const allowed = this.allowedCompanies;
    if (!allowed) return;
    const user = this.db.get('res.users', this.uid);
    const mine = Array.isArray(user?.company_ids) ? (user.company_ids as number[]) : [];
    if (allowed.some((c) => !mine.includes(c))) throw accessError('Access to unauthorized or invalid companies.');
  }

  /** Multi-company record rule: a record of another company than those allowed is not seen; a shared one (no company) is. */
  private inCompanies(def: ModelDef, rec: Rec): boolean {
    if (def.name === 'res.company') {
      const user = this.db.get('res.users', this.uid);
      return !Array.isArray(user?.company_ids) || (user.company_ids as number[]).length === 0 || (user.company_ids as number[]).includes(rec.id);
    }
    const allowed = this.allowedCompanies;
    if (!allowed || def.fields.company_id === undefined) return true;
    const c = rec.company_id;
    return typeof c !== 'number' || allowed.includes(c);
  }

  model(name: string): ModelDef {
    const def = this.db.model(name);
    if (!def) throw userError(`Object ${name} doesn't exist`);
    return def;
  }

  /** Is the user in this group (`stock.group_stock_manager`)? */
  hasGroup(group: string): boolean {
    return this.isAdmin || (this.db.userGroups.get(this.uid)?.has(group) ?? false);
  }

  /** Does the user have this model access right (ir.model.access)? */
  allowed(def: ModelDef, operation: AccessOperation): boolean {
    if (this.isAdmin) return true;
    if (def.acl) return def.acl.some(([group, rights]) => rights[RIGHT_INDEX[operation]] !== '-' && this.hasGroup(group));
    const need = operation === 'read' ? def.access?.read : def.access?.write;
    return need !== 'admin';
  }

  /** Odoo's model access rights (ir.model.access) as far as the simulator keeps them. */
  checkAccess(def: ModelDef, operation: AccessOperation = 'read'): void {
    if (!this.allowed(def, operation)) {
      const groups = def.acl?.filter(([, rights]) => rights[RIGHT_INDEX[operation]] !== '-').map(([g]) => g) ?? [
        this.version >= 19 ? 'Access Rights' : 'Administration/Access Rights',
      ];
      const verb = { read: 'access', write: 'modify', create: 'create', unlink: 'delete' }[operation];
      throw accessError(
        `You are not allowed to ${verb} '${def.description}' (${def.name}) records.\n\n` +
          `This operation is allowed for the following groups:\n${groups.map((g) => `\t- ${g}`).join('\n')}\n\n` +
          `Contact your administrator to request access if necessary.`,
      );
    }
  }

  get(model: string, id: number): Rec | undefined {
    return this.db.get(model, id);
  }

  /** The record, or Odoo's MissingError. */
  browse(model: string, id: number): Rec {
    const rec = this.db.get(model, id);
    if (!rec) throw missingError(`Record does not exist or has been deleted.\n(Record: ${model}(${id},), User: ${this.uid})`);
    return rec;
  }

  browseAll(model: string, ids: number[]): Rec[] {
    return ids.map((id) => this.browse(model, id));
  }

  displayName(model: string, rec: Rec): string {
    const def = this.model(model);
    if (def.displayName) return def.displayName(this, rec);
    const v = this.value(model, rec, def.recName ?? 'name');
    return typeof v === 'string' ? v : `${model},${rec.id}`;
  }

  /** A field's value on a record, computing non-stored fields and one2many lists. */
  value(model: string, rec: Rec, field: string): unknown {
    if (field === 'id') return rec.id;
    const def = this.model(model);
    if (field === 'display_name') return this.displayName(model, rec);
    const f = def.fields[field];
    if (!f) return undefined;
    if (f.compute) return f.compute(this, rec);
    if (f.type === 'one2many') {
      const inv = f.inverse!;
      return this.db
        .all(f.relation!)
        .filter((r) => r[inv] === rec.id)
        .map((r) => r.id)
        .sort((a, b) => a - b);
    }
    const v = rec[field];
    if (v === undefined) return f.type === 'many2many' ? [] : f.type === 'integer' || f.type === 'float' ? 0 : false;
    return v;
  }

  // ---- writes ---------------------------------------------------------------

  /** Create one record from `vals` (after defaults); returns its id. */
  create(model: string, vals: Record<string, unknown>): number {
    const def = this.model(model);
    this.checkAccess(def, 'create');
    const input = { ...vals };
    def.prepareCreate?.(this, input);
    const id = this.db.newId(model);
    const rec: Rec = { id };
    const later: Array<[string, unknown]> = [];
    const shape = shapeOf(def);
    for (const [name, f] of shape.defaulted) {
      if (!(name in input))
        input[name] = typeof f.default === 'function' ? (f.default as (env: Env, v: Record<string, unknown>) => unknown)(this, input) : f.default;
    }
    for (const name in input) {
      const v = input[name];
      const f = def.fields[name];
      if (!f) throw this.invalidField(name, model, 'write');
      if (f.type === 'one2many') {
        later.push([name, v]);
        continue;
      }
      if (f.compute) continue;
      rec[name] = this.convert(model, name, f, v, undefined);
    }
    // Unset columns are NULL in the database: false (0 for numbers, [] for many2many) when read.
    for (const [name, f] of shape.stored) {
      if (name in rec) continue;
      rec[name] = f.type === 'many2many' ? [] : f.type === 'integer' || f.type === 'float' ? 0 : false;
    }
    this.checkRequired(def, rec);
    this.db.put(model, rec);
    for (const [name, v] of later) this.writeOne2many(model, id, name, def.fields[name]!, v);
    def.afterWrite?.(this, [id], input, true);
    return id;
  }

  write(model: string, ids: number[], vals: Record<string, unknown>): void {
    const def = this.model(model);
    this.checkAccess(def, 'write');
    for (const name of Object.keys(vals)) {
      if (!def.fields[name]) throw this.invalidField(name, model, 'write');
    }
    for (const id of ids) {
      const prev = this.browse(model, id);
      const rec: Rec = { ...prev };
      const later: Array<[string, unknown]> = [];
      for (const [name, v] of Object.entries(vals)) {
        const f = def.fields[name]!;
        if (f.type === 'one2many') later.push([name, v]);
        else if (!f.compute) rec[name] = this.convert(model, name, f, v, prev[name]);
      }
      this.checkRequired(def, rec);
      this.db.put(model, rec);
      for (const [name, v] of later) this.writeOne2many(model, id, name, def.fields[name]!, v);
    }
    def.afterWrite?.(this, ids, vals, false);
  }

  /** Write stored fields without hooks (for business methods that manage their own effects). */
  set(model: string, id: number, vals: Record<string, unknown>): void {
    const prev = this.browse(model, id);
    this.db.put(model, { ...prev, ...vals, id });
  }

  unlink(model: string, ids: number[]): void {
    const def = this.model(model);
    this.checkAccess(def, 'unlink');
    def.beforeUnlink?.(this, ids);
    for (const id of ids) {
      this.browse(model, id);
      this.db.remove(model, id);
      // ir.model.data rows pointing at a deleted record go with it, as in Odoo.
      for (const x of this.db.all('ir.model.data')) {
        if (x.model === model && x.res_id === id) this.db.remove('ir.model.data', x.id);
      }
    }
  }

  /** ValueError for a field the model does not have, worded as the version does. */
  private invalidField(name: string, model: string, op: 'read' | 'write'): OdooException {
    if (this.version < 19) return valueError(`Invalid field '${name}' on model '${model}'`);
    return valueError(op === 'read' ? `Invalid field '${name}' on '${model}'` : `Invalid field '${name}' in '${model}'`);
  }

  private checkRequired(def: ModelDef, rec: Rec): void {
    for (const [name, f] of shapeOf(def).required) {
      const v = rec[name];
      if (v === undefined || v === false || v === null || v === '') {
        // The NOT NULL violation as Odoo words it (19 and 18 differ).
        const detail =
          this.version >= 19
            ? `Missing required value for the field '${f.string}' (${name}).\n` +
              `Model: '${def.description}' (${def.name})\n` +
              `- create/update: a mandatory field is not set\n` +
              `- delete: another model requires the record being deleted, you can archive it instead\n`
            : undefined;
        const message =
          detail !== undefined
            ? `The operation cannot be completed: ${detail}`
            : `The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n` +
              `- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n` +
              `Model: ${def.description} (${def.name})\nField: ${f.string} (${name})\n`;
        const e = new OdooException('odoo.exceptions.ValidationError', message, 422, [message], {
          message: detail ?? `Missing required value for the field '${f.string}' (${name})`,
          field: name,
        });
        throw e;
      }
    }
  }

  /** Convert a value written by a client to what the database keeps, with Odoo's errors. */
  private convert(model: string, name: string, f: FieldDef, v: unknown, prev: unknown): unknown {
    if (v === null || v === undefined) v = false;
    switch (f.type) {
      case 'char':
      case 'text':
      case 'html':
        return v === false ? false : String(v);
      case 'integer': {
        const n = v === false ? 0 : Number(v);
        if (!Number.isFinite(n)) throw valueError(`invalid literal for int() with base 10: '${String(v)}'`);
        return Math.trunc(n);
      }
      case 'float': {
        const n = v === false ? 0 : Number(v);
        if (!Number.isFinite(n)) throw valueError(`could not convert string to float: '${String(v)}'`);
        return n;
      }
      case 'boolean':
        return Boolean(v);
      case 'selection': {
        if (v === false) return false;
        const s = String(v);
        if (!f.selection!.some(([k]) => k === s)) throw valueError(`Wrong value for ${model}.${name}: '${s}'`);
        return s;
      }
      case 'date':
        if (v === false) return false;
        if (typeof v !== 'string' || !DATE_RE.test(v.slice(0, 10))) throw valueError(`time data '${String(v)}' does not match format '%Y-%m-%d'`);
        return v.slice(0, 10);
      case 'datetime': {
        if (v === false) return false;
        let s = typeof v === 'string' ? v.slice(0, 19) : '';
        if (DATE_RE.test(s)) s += ' 00:00:00';
        if (!DATETIME_RE.test(s)) throw valueError(`time data '${String(v)}' does not match format '%Y-%m-%d %H:%M:%S'`);
        return s;
      }
      case 'many2one': {
        if (v === false || v === 0) return false;
        const id = Array.isArray(v) ? Number(v[0]) : Number(v);
        if (!Number.isInteger(id)) throw valueError(`Wrong value for ${model}.${name}: ${JSON.stringify(v)}`);
        if (!this.db.get(f.relation!, id)) {
          const table = `${model.replace(/\./g, '_')}_${name}_fkey`;
          throw validationError(
            this.version >= 19
              ? `The operation cannot be completed: Another model is using the record you are trying to delete.\n\n` +
                  `The troublemaker is: '${this.model(model).description}' (${model})\n` +
                  `Thanks to the following constraint: '${f.string}' (${name})\nHow about archiving the record instead?`
              : `The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\n` +
                  `Model: ${this.model(model).description} (${model})\nConstraint: ${table}\n`,
          );
        }
        return id;
      }
      case 'many2many':
        return this.applyX2manyCommands(f.relation!, Array.isArray(prev) ? (prev as number[]) : [], v);
      case 'reference': {
        // fields.Reference: "model,id" with a model from its selection; a record that does not exist reads as empty.
        if (v === false || v === '') return false;
        const s = String(v);
        const [target, rid] = s.split(',');
        if (typeof v !== 'string' || rid === undefined || !f.selection!.some(([k]) => k === target))
          throw valueError(`Wrong value for ${model}.${name}: '${s}'`);
        return this.db.model(target!) && this.db.get(target!, Number(rid)) ? s : false;
      }
      case 'json':
        return v;
      default:
        return v;
    }
  }

  private applyX2manyCommands(relation: string, current: number[], v: unknown): number[] {
    let ids = [...current];
    if (v === false) return [];
    if (!Array.isArray(v)) throw valueError(`Wrong value for a many2many field: ${JSON.stringify(v)}`);
    for (const cmd of v) {
      if (typeof cmd === 'number') {
        if (!ids.includes(cmd)) ids.push(cmd);
        continue;
      }
      if (!Array.isArray(cmd)) throw valueError(`Wrong command: ${JSON.stringify(cmd)}`);
      const [op, id, arg] = cmd as [number, number, unknown];
      if (op === 0) ids.push(this.create(relation, (arg ?? {}) as Record<string, unknown>));
      else if (op === 1) this.write(relation, [id], (arg ?? {}) as Record<string, unknown>);
      else if (op === 2) {
        this.unlink(relation, [id]);
        ids = ids.filter((x) => x !== id);
      } else if (op === 3) ids = ids.filter((x) => x !== id);
      else if (op === 4) {
        this.browse(relation, id);
        if (!ids.includes(id)) ids.push(id);
      } else if (op === 5) ids = [];
      else if (op === 6) ids = [...((arg as number[]) ?? [])];
      else throw valueError(`Unknown command ${op}`);
    }
    return ids;
  }

  private writeOne2many(model: string, id: number, name: string, f: FieldDef, v: unknown): void {
    if (v === false) return;
    if (!Array.isArray(v)) throw valueError(`Wrong value for ${model}.${name}: ${JSON.stringify(v)}`);
    const inv = f.inverse!;
    for (const cmd of v) {
      if (!Array.isArray(cmd)) throw valueError(`Wrong value for ${model}.${name}: ${JSON.stringify(cmd)}`);
      const [op, cid, arg] = cmd as [number, number, unknown];
      if (op === 0) this.create(f.relation!, { ...((arg ?? {}) as Record<string, unknown>), [inv]: id });
      else if (op === 1) this.write(f.relation!, [cid], (arg ?? {}) as Record<string, unknown>);
      else if (op === 2) this.unlink(f.relation!, [cid]);
      else if (op === 4) this.write(f.relation!, [cid], { [inv]: id });
      else if (op === 3 || op === 5 || op === 6) {
        /* unlinking children by command is not needed by the agent */
      } else throw valueError(`Unknown command ${op}`);
    }
  }

  // ---- reads ----------------------------------------------------------------

  /** read(): many2one as [id, display name] (or the id with load=false), x2many as id lists. */
  read(model: string, ids: number[], fields?: string[] | false | null, load: string | false | null = '_classic_read'): Array<Record<string, unknown>> {
    const def = this.model(model);
    this.checkAccess(def);
    const names = fields && fields.length > 0 ? fields : Object.keys(def.fields);
    for (const n of names) {
      if (n !== 'id' && n !== 'display_name' && !def.fields[n]) throw this.invalidField(n, model, 'read');
    }
    return ids.map((id) => {
      const rec = this.browse(model, id);
      const out: Record<string, unknown> = { id };
      for (const n of names) {
        if (n === 'id') continue;
        const v = this.value(model, rec, n);
        const f = def.fields[n];
        if (f?.type === 'many2one' && typeof v === 'number' && load === '_classic_read') {
          const target = this.db.get(f.relation!, v);
          out[n] = [v, target ? this.displayName(f.relation!, target) : `${f.relation},${v}`];
        } else out[n] = v;
      }
      return out;
    });
  }

  search(model: string, domain: DomainTerm[] = [], opts: SearchOptions = {}): number[] {
    const def = this.model(model);
    this.checkAccess(def);
    if (!Array.isArray(domain)) throw valueError(`Invalid domain ${JSON.stringify(domain)}`);
    const activeTest = this.context.active_test !== false && def.fields.active !== undefined && !mentions(domain, 'active');
    // A domain that is a plain AND holding ['id', 'in', ids] looks at those records only (reads by id stay fast on large tables).
    const byIds = !domain.some((t) => t === '|' || t === '!')
      ? domain.find((t) => Array.isArray(t) && t[0] === 'id' && t[1] === 'in' && Array.isArray(t[2]))
      : undefined;
    const candidates = byIds
      ? [...new Set((byIds as [string, string, unknown[]])[2])]
          .map((id) => (typeof id === 'number' ? this.db.get(model, id) : undefined))
          .filter((r): r is Rec => r !== undefined)
      : this.db.all(model);
    let recs = candidates.filter((r) => (!activeTest || r.active !== false) && this.inCompanies(def, r) && this.matches(model, r, domain));
    recs = this.sort(model, recs, opts.order || def.order || 'id');
    const offset = opts.offset ?? 0;
    const limit = opts.limit === false || opts.limit === null || opts.limit === undefined ? undefined : opts.limit;
    return recs.slice(offset, limit === undefined ? undefined : offset + limit).map((r) => r.id);
  }

  private sort(model: string, recs: Rec[], order: string): Rec[] {
    const keys = order.split(',').map((s) => {
      const [field, dir] = s.trim().split(/\s+/);
      return { field: field!, desc: (dir ?? '').toLowerCase() === 'desc' };
    });
    return [...recs].sort((a, b) => {
      for (const k of keys) {
        const va = this.value(model, a, k.field) as string | number | boolean;
        const vb = this.value(model, b, k.field) as string | number | boolean;
        if (va === vb) continue;
        const cmp = va === false ? -1 : vb === false ? 1 : va < vb ? -1 : 1;
        return k.desc ? -cmp : cmp;
      }
      return 0;
    });
  }

  /** Evaluate a domain (prefix notation, implicit '&') on one record. */
  matches(model: string, rec: Rec, domain: DomainTerm[]): boolean {
    const items = [...domain];
    const stack: boolean[] = [];
    for (let i = items.length - 1; i >= 0; i--) {
      const it = items[i];
      if (it === '&' || it === '|') {
        const a = stack.pop() ?? true;
        const b = stack.pop() ?? true;
        stack.push(it === '&' ? a && b : a || b);
      } else if (it === '!') {
        stack.push(!(stack.pop() ?? true));
      } else {
        stack.push(this.leaf(model, rec, it));
      }
    }
    return stack.every(Boolean);
  }

  private leaf(model: string, rec: Rec, term: unknown): boolean {
    if (!Array.isArray(term) || term.length !== 3) throw valueError(`Invalid leaf ${JSON.stringify(term)}`);
    const [left, op, right] = term as [unknown, string, unknown];
    if (typeof left === 'number') return op === '=' ? left === right : op === '!=' ? left !== right : true;
    const path = String(left).split('.');
    const values = this.pathValues(model, rec, path);
    const last = this.fieldAt(model, path);
    return this.compare(last, values, op, right);
  }

  private fieldAt(model: string, path: string[]): { model: string; field: FieldDef | undefined } {
    let m = model;
    let f: FieldDef | undefined;
    for (const [i, name] of path.entries()) {
      const def = this.model(m);
      f = name === 'id' ? { type: 'integer', string: 'ID' } : name === 'display_name' ? { type: 'char', string: 'Display Name' } : def.fields[name];
      if (!f) throw valueError(`Invalid field ${m}.${name} in leaf ${JSON.stringify(path.join('.'))}`);
      if (i < path.length - 1) m = f.relation!;
    }
    return { model: m, field: f };
  }

  private pathValues(model: string, rec: Rec, path: string[]): unknown[] {
    const [head, ...rest] = path;
    const def = this.model(model);
    const v = this.value(model, rec, head!);
    if (rest.length === 0) return [v];
    const f = def.fields[head!]!;
    const ids = f.type === 'many2one' ? (typeof v === 'number' ? [v] : []) : (v as number[]);
    const out: unknown[] = [];
    for (const id of ids) {
      const r = this.db.get(f.relation!, id);
      if (r) out.push(...this.pathValues(f.relation!, r, rest));
    }
    if (out.length === 0) out.push(false);
    return out;
  }

  private compare(at: { model: string; field: FieldDef | undefined }, values: unknown[], op: string, right: unknown): boolean {
    const f = at.field;
    const relational = f?.type === 'many2one' || f?.type === 'one2many' || f?.type === 'many2many';
    // Each value may be a list (x2many): match when any element matches.
    const flat: unknown[] = [];
    for (const v of values) {
      if (Array.isArray(v)) {
        if (v.length === 0) flat.push(false);
        else flat.push(...v);
      } else flat.push(v);
    }
    const nameOf = (v: unknown): string => {
      if (!relational || typeof v !== 'number') return typeof v === 'string' ? v : '';
      const r = this.db.get(f!.relation!, v);
      return r ? this.displayName(f!.relation!, r) : '';
    };
    const eq = (v: unknown, r: unknown): boolean => {
      if (r === false || r === null) return v === false || v === null || v === undefined || v === '';
      if (relational && typeof r === 'string') return nameOf(v) === r;
      return v === r;
    };
    const like = (v: unknown, pattern: string, ci: boolean, exact: boolean): boolean => {
      const s = relational ? nameOf(v) : typeof v === 'string' ? v : v === false ? '' : String(v);
      if (exact) {
        const re = new RegExp(
          `^${pattern
            .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
            .replace(/%/g, '.*')
            .replace(/_/g, '.')}$`,
          ci ? 'i' : '',
        );
        return re.test(s);
      }
      return ci ? s.toLowerCase().includes(pattern.toLowerCase()) : s.includes(pattern);
    };
    switch (op) {
      case '=':
      case '=?':
        if (op === '=?' && (right === false || right === null)) return true;
        return flat.some((v) => eq(v, right));
      case '!=':
        return !flat.some((v) => eq(v, right));
      case 'in':
      case 'child_of':
      case 'parent_of': {
        const list = Array.isArray(right) ? right : [right];
        // Long lists of plain values: one Set per list (a search over many records asks the same list each time).
        if (!relational && list.length > 16 && list.every((r) => typeof r === 'number' || (typeof r === 'string' && r !== ''))) {
          let set = IN_SETS.get(list);
          if (!set) IN_SETS.set(list, (set = new Set(list)));
          return flat.some((v) => set.has(v));
        }
        return flat.some((v) => list.some((r) => eq(v, r)));
      }
      case 'not in': {
        const list = Array.isArray(right) ? right : [right];
        return !flat.some((v) => list.some((r) => eq(v, r)));
      }
      case '<':
      case '>':
      case '<=':
      case '>=':
        return flat.some((v) => {
          if (v === false || v === null) return false;
          const a = v as number | string;
          const b = right as number | string;
          return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
        });
      case 'like':
      case 'ilike':
        if (right === false) return flat.some((v) => eq(v, false));
        return flat.some((v) => like(v, String(right), op === 'ilike', false));
      case 'not like':
      case 'not ilike':
        return !flat.some((v) => like(v, String(right), op === 'not ilike', false));
      case '=like':
      case '=ilike':
        return flat.some((v) => like(v, String(right), op === '=ilike', true));
      case 'any':
      case 'not any': {
        const sub = Array.isArray(right) ? right : [];
        const hit = flat.some((v) => {
          if (typeof v !== 'number') return false;
          const r = this.db.get(f!.relation!, v);
          return !!r && this.matches(f!.relation!, r, sub);
        });
        return op === 'any' ? hit : !hit;
      }
      default:
        throw valueError(`Invalid domain operator ${JSON.stringify(op)}`);
    }
  }

  searchRead(model: string, domain: DomainTerm[], fields?: string[] | false | null, opts: SearchOptions = {}): Array<Record<string, unknown>> {
    return this.read(model, this.search(model, domain, opts), fields);
  }

  nameSearch(model: string, name: string, domain: DomainTerm[] = [], operator = 'ilike', limit = 100): Array<[number, string]> {
    const ids = this.search(model, domain, {});
    const out: Array<[number, string]> = [];
    for (const id of ids) {
      const rec = this.db.get(model, id)!;
      const dn = this.displayName(model, rec);
      const ok =
        !name ||
        (operator === '='
          ? dn === name || rec.default_code === name || rec.barcode === name
          : dn.toLowerCase().includes(name.toLowerCase()) || rec.barcode === name);
      if (ok) out.push([id, dn]);
      if (out.length >= limit) break;
    }
    return out;
  }

  fieldsGet(model: string, allfields?: string[] | false | null, attributes?: string[] | false | null): Record<string, Record<string, unknown>> {
    const def = this.model(model);
    const out: Record<string, Record<string, unknown>> = {
      id: { type: 'integer', string: 'ID', readonly: true, required: false, store: true },
      display_name: { type: 'char', string: 'Display Name', readonly: true, required: false, store: false },
    };
    for (const [name, f] of Object.entries(def.fields)) {
      const d: Record<string, unknown> = {
        type: f.type,
        string: f.string,
        required: !!f.required,
        readonly: !!f.readonly || !!f.compute,
        store: !f.compute || !!f.stored,
      };
      if (f.relation) d.relation = f.relation;
      if (f.inverse) d.relation_field = f.inverse;
      if (f.selection) d.selection = f.selection;
      out[name] = d;
    }
    const pick = allfields && allfields.length > 0 ? allfields : Object.keys(out);
    const res: Record<string, Record<string, unknown>> = {};
    for (const n of pick) {
      const d = out[n];
      if (!d) continue;
      if (attributes && attributes.length > 0) {
        res[n] = Object.fromEntries(Object.entries(d).filter(([k]) => attributes.includes(k)));
      } else res[n] = d;
    }
    return res;
  }

  // ---- external ids and load() ---------------------------------------------

  /** `module.name` -> the record it names (model and id), or undefined. */
  xmlidTarget(xmlid: string): { model: string; resId: number } | undefined {
    const x = this.db.xmlidRecord(xmlid);
    if (!x) return undefined;
    const model = String(x.model);
    const resId = Number(x.res_id);
    if (!this.db.get(model, resId)) return undefined;
    return { model, resId };
  }

  /** Bind an external id to a record (as Odoo's _load_records does). */
  bindXmlid(xmlid: string, model: string, resId: number, noupdate = false): void {
    const [module, ...rest] = xmlid.split('.');
    const name = rest.join('.');
    const existing = this.db.xmlidRecord(xmlid);
    if (existing) {
      this.db.put('ir.model.data', { ...existing, model, res_id: resId });
      return;
    }
    const id = this.db.newId('ir.model.data');
    this.db.put('ir.model.data', { id, module: module!, name, model, res_id: resId, noupdate });
  }

  /**
   * Odoo's import: `fields` like `id`, `name`, `workcenter_id/id`, `workcenter_id`,
   * `workcenter_id/.id`; `data` rows of strings. An `id` column holding an
   * external id makes it an upsert. All or nothing: any bad row gives
   * `{ids: false, messages}` at HTTP 200, with every change undone.
   */
  load(model: string, fields: string[], data: unknown[][]): { ids: number[] | false; messages: LoadMessage[]; nextrow: number } {
    const def = this.model(model);
    this.checkAccess(def);
    if (!Array.isArray(fields) || !Array.isArray(data)) throw typeError('load() needs fields (a list) and data (a list of rows)');
    const paths = fields.map((f) =>
      (String(f) === '.id'
        ? '.id'
        : String(f)
            .replace(/:id$/, '/id')
            .replace(/([^/])\.id$/, '$1/.id')
      ).split('/'),
    );
    for (const p of paths) {
      const name = p[0]!;
      if (name !== 'id' && name !== '.id' && !def.fields[name]) throw valueError(`Invalid field name '${name}'`);
    }
    const isO2m = (p: string[]) => def.fields[p[0]!]?.type === 'one2many' && p.length > 1;
    const filled = (v: unknown) => v !== undefined && v !== null && v !== '' && v !== false;
    const messages: LoadMessage[] = [];
    const ids: number[] = [];
    const tz = typeof this.context.tz === 'string' && this.context.tz ? this.context.tz : String(this.get('res.users', this.uid)?.tz || 'UTC');
    const module = typeof this.context.module === 'string' ? this.context.module : '__import__';
    const update = this.context.mode === 'update';
    const noupdate = !!this.context.noupdate;
    // A record spans its row and the following rows that only fill one2many columns (Odoo's _extract_records).
    const spans: Array<{ from: number; rows: unknown[][] }> = [];
    data.forEach((row, i) => {
      const r = Array.isArray(row) ? row : [];
      const onlyO2m = paths.some((p, c) => isO2m(p) && filled(r[c])) && !paths.some((p, c) => !isO2m(p) && filled(r[c]));
      const last = spans[spans.length - 1];
      if (onlyO2m && last) last.rows.push(r);
      else spans.push({ from: i, rows: [r] });
    });
    try {
      this.db.savepoint(() => {
        spans.forEach((span, index) => {
          const info = { record: index, rows: { from: span.from, to: span.from + span.rows.length - 1 } };
          const log = (m: Omit<LoadMessage, 'record' | 'rows' | 'type'>) => messages.push({ ...info, type: 'error', ...m });
          const { vals, xmlid, dbid } = this.convertImportRecord(def, paths, span.rows, tz, module, log);
          try {
            this.db.savepoint(() => {
              // Odoo's _load_records: an existing external id is written (unless the load runs in
              // update mode and the id is flagged noupdate: then the record is left as it is).
              let id: number;
              const imd = xmlid ? this.db.xmlidRecord(xmlid) : undefined;
              if (xmlid && imd) {
                if (imd.model !== model) {
                  throw validationError(
                    `For external id ${xmlid} when trying to create/update a record of model ${model} found record of different model ${String(imd.model)} (${imd.id})`,
                  );
                }
                if (this.db.get(model, Number(imd.res_id))) {
                  id = Number(imd.res_id);
                  if (!(update && imd.noupdate)) this.write(model, [id], vals);
                } else {
                  this.db.remove('ir.model.data', imd.id);
                  id = this.create(model, vals);
                  this.bindXmlid(xmlid, model, id, noupdate);
                }
              } else if (dbid !== undefined) {
                this.write(model, [dbid], vals);
                id = dbid;
              } else if (!xmlid && update) {
                throw validationError('Cannot update a record without specifying its id or xml_id');
              } else {
                id = this.create(model, vals);
                if (xmlid) this.bindXmlid(xmlid, model, id, noupdate);
              }
              ids.push(id);
            });
          } catch (err) {
            if (!(err instanceof OdooException)) throw err;
            if (
              err.odooName === 'odoo.exceptions.UserError' ||
              err.odooName.endsWith('ValidationError') ||
              err.odooName.endsWith('MissingError') ||
              err.odooName.endsWith('AccessError')
            ) {
              const m = err.load ?? { message: err.message };
              messages.push({ ...info, type: 'error', message: m.message, ...(m.field ? { field: m.field } : {}) });
            } else {
              messages.push({
                ...info,
                type: 'error',
                message: `Unknown error during import: <class '${err.odooName}'>: ${err.message}`,
                moreinfo: 'Resolve other errors first',
              });
            }
          }
        });
        if (messages.some((m) => m.type === 'error')) throw new LoadFailed();
      });
    } catch (err) {
      if (!(err instanceof LoadFailed)) throw err;
      return { ids: false, messages, nextrow: 0 };
    }
    return { ids, messages, nextrow: 0 };
  }

  /**
   * One record of an import: plain columns from its first row; one2many columns
   * (`move_ids/product_id/.id`, ...) from every row of its span, each sub-row a
   * create command, or link + update when it names an existing record.
   */
  private convertImportRecord(
    def: ModelDef,
    paths: string[][],
    rows: unknown[][],
    tz: string,
    module: string,
    log: (m: Omit<LoadMessage, 'record' | 'rows' | 'type'>) => void,
  ): { vals: Record<string, unknown>; xmlid?: string; dbid?: number } {
    const vals: Record<string, unknown> = {};
    let xmlid: string | undefined;
    let dbid: number | undefined;
    const first = rows[0] ?? [];
    const filled = (v: unknown) => v !== undefined && v !== null && v !== '' && v !== false;
    const groups = new Map<string, Array<{ col: number; sub: string[] }>>();
    paths.forEach((p, col) => {
      const name = p[0]!;
      const raw = first[col];
      if (name === 'id') {
        if (filled(raw)) xmlid = String(raw).includes('.') ? String(raw) : `${module}.${String(raw)}`;
        return;
      }
      if (name === '.id') {
        if (filled(raw)) dbid = Number(raw);
        return;
      }
      const f = def.fields[name]!;
      if (f.type === 'one2many' && p.length > 1) {
        const g = groups.get(name) ?? [];
        g.push({ col, sub: p.slice(1) });
        groups.set(name, g);
        return;
      }
      const r = this.importValue(f, name, p[1], raw, tz);
      // A cell that does not convert is reported and left out; Odoo still tries the row
      // (so a required field left out adds its own message).
      if ('error' in r) log({ field: name, message: r.error, ...(r.moreinfo ? { moreinfo: r.moreinfo } : {}), field_name: f.string });
      else if (r.value !== undefined) vals[name] = r.value;
    });
    for (const [name, cols] of groups) {
      const f = def.fields[name]!;
      const comodel = this.model(f.relation!);
      const subPaths = cols.map((c) => c.sub);
      const commands: unknown[] = [];
      for (const row of rows) {
        const subRow = cols.map((c) => row[c.col]);
        if (!subRow.some(filled)) continue;
        const sub = this.convertImportRecord(comodel, subPaths, [subRow], tz, module, (m) => log({ ...m, field: name }));
        let ref: number | undefined = sub.dbid;
        if (sub.xmlid) {
          const t = this.xmlidTarget(sub.xmlid);
          if (!t) {
            log({ field: name, message: `No matching record found for external id '${sub.xmlid}' in field '${f.string}'`, field_name: f.string });
            continue;
          }
          ref = t.resId;
        }
        if (ref !== undefined) commands.push([4, ref], [1, ref, sub.vals]);
        else commands.push([0, 0, sub.vals]);
      }
      vals[name] = commands;
    }
    return { vals, xmlid, dbid };
  }

  /** Convert one imported cell (ir.fields.converter), or explain why not. */
  private importValue(
    f: FieldDef,
    name: string,
    sub: string | undefined,
    raw: unknown,
    tz: string,
  ): { value: unknown } | { error: string; moreinfo?: unknown } {
    if (raw === undefined || raw === null || raw === '' || raw === false) return { value: false };
    const s = String(raw);
    switch (f.type) {
      case 'many2one': {
        const rel = f.relation!;
        if (sub === 'id') {
          const t = this.xmlidTarget(s.includes('.') ? s : `__import__.${s}`);
          if (!t || t.model !== rel) return { error: `No matching record found for external id '${s}' in field '${f.string}'` };
          return { value: t.resId };
        }
        if (sub === '.id') {
          const id = Number(s);
          if (!Number.isInteger(id)) return { error: `Invalid database id '${s}' for the field '${f.string}'` };
          if (!this.db.get(rel, id)) return { error: `No matching record found for database id '${s}' in field '${f.string}'` };
          return { value: id };
        }
        const hits = this.nameSearch(rel, s, [], '=', 2);
        if (hits.length === 0) return { error: `No matching record found for name '${s}' in field '${f.string}'` };
        return { value: hits[0]![0] };
      }
      case 'many2many': {
        const ids: number[] = [];
        for (const part of s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)) {
          if (sub === 'id') {
            const t = this.xmlidTarget(part.includes('.') ? part : `__import__.${part}`);
            if (!t) return { error: `No matching record found for external id '${part}' in field '${f.string}'` };
            ids.push(t.resId);
          } else if (sub === '.id') {
            const rid = Number(part);
            if (!Number.isInteger(rid)) return { error: `Invalid database id '${part}' for the field '${f.string}'` };
            if (!this.db.get(f.relation!, rid)) return { error: `No matching record found for database id '${part}' in field '${f.string}'` };
            ids.push(rid);
          } else {
            const hits = this.nameSearch(f.relation!, part, [], '=', 1);
            if (hits.length === 0) return { error: `No matching record found for name '${part}' in field '${f.string}'` };
            ids.push(hits[0]![0]);
          }
        }
        return { value: [[6, 0, ids]] };
      }
      case 'one2many':
        return { error: `Can not create Many-To-One records indirectly, import the field separately` };
      case 'integer':
        return /^-?\d+$/.test(s.trim()) ? { value: Number(s) } : { error: `'${s}' does not seem to be an integer for field '${f.string}'` };
      case 'float':
        return s.trim() !== '' && Number.isFinite(Number(s)) ? { value: Number(s) } : { error: `'${s}' does not seem to be a number for field '${f.string}'` };
      case 'boolean': {
        const l = s.toLowerCase();
        if (['1', 'true', 'yes'].includes(l)) return { value: true };
        if (['0', 'false', 'no'].includes(l)) return { value: false };
        return { error: `Unknown value '${s}' for boolean field '${f.string}'` };
      }
      case 'selection': {
        const hit = f.selection!.find(([k, label]) => k === s || label.toLowerCase() === s.toLowerCase());
        return hit ? { value: hit[0] } : { error: `Value '${s}' not found in selection field '${f.string}'` };
      }
      case 'date':
        return DATE_RE.test(s)
          ? { value: s }
          : { error: `'${s}' does not seem to be a valid date for field '${f.string}'`, moreinfo: "Use the format '2012-12-31'" };
      case 'datetime': {
        const v = DATE_RE.test(s) ? `${s} 00:00:00` : s;
        if (!DATETIME_RE.test(v))
          return { error: `'${s}' does not seem to be a valid datetime for field '${f.string}'`, moreinfo: "Use the format '2012-12-31 23:59:59'" };
        return { value: localToUtc(v, tz) };
      }
      default:
        return { value: s };
    }
  }

  // ---- methods ----------------------------------------------------------------

  /** Find a method (model-specific first, then generic), or throw as Odoo does. */
  method(model: string, name: string): MethodDef {
    const def = this.model(model);
    if (name.startsWith('_')) throw accessError(`Private methods (such as '${model}.${name}') cannot be called remotely.`);
    const m = def.methods?.[name] ?? genericMethods(this.version)[name];
    if (!m) throw new OdooException('builtins.AttributeError', `The method '${model}.${name}' does not exist`, 500);
    this.checkCompanies();
    return m;
  }
}

class LoadFailed extends Error {}

function mentions(domain: unknown[], field: string): boolean {
  return domain.some((t) => Array.isArray(t) && t[0] === field);
}

const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? (v as string[]) : undefined);
const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);

/** Methods every model has, with their Python signatures (for positional JSON-RPC arguments). */
function genericMethods(version: number): Record<string, MethodDef> {
  return {
    create: {
      api: 'model',
      params: ['vals_list'],
      required: 1,
      run: (env, _ids, kw) => {
        const v = kw.vals_list;
        const rows = Array.isArray(v) ? v : [v];
        return rows.map((vals) => {
          if (!vals || typeof vals !== 'object') throw valueError(`create() needs a dict of values, got ${JSON.stringify(vals)}`);
          return env.create(currentModel(env), vals as Record<string, unknown>);
        });
      },
    },
    write: {
      api: 'records',
      params: ['vals'],
      required: 1,
      run: (env, ids, kw) => {
        env.write(currentModel(env), ids, (kw.vals ?? {}) as Record<string, unknown>);
        return true;
      },
    },
    read: {
      api: 'records',
      params: ['fields', 'load'],
      run: (env, ids, kw) => env.read(currentModel(env), ids, list(kw.fields), kw.load === undefined ? '_classic_read' : (kw.load as string | false)),
    },
    search: {
      api: 'model',
      params: ['domain', 'offset', 'limit', 'order'],
      required: 1,
      run: (env, _ids, kw) =>
        env.search(currentModel(env), (kw.domain ?? []) as unknown[], {
          offset: num(kw.offset, 0),
          limit: kw.limit as number | undefined,
          order: kw.order as string | undefined,
        }),
    },
    search_read: {
      api: 'model',
      params: ['domain', 'fields', 'offset', 'limit', 'order'],
      run: (env, _ids, kw) =>
        env.searchRead(currentModel(env), (kw.domain ?? []) as unknown[], list(kw.fields), {
          offset: num(kw.offset, 0),
          limit: kw.limit as number | undefined,
          order: kw.order as string | undefined,
        }),
    },
    search_count: {
      api: 'model',
      params: ['domain', 'limit'],
      required: 1,
      run: (env, _ids, kw) => env.search(currentModel(env), (kw.domain ?? []) as unknown[], { limit: kw.limit as number | undefined }).length,
    },
    name_search: {
      api: 'model',
      params: ['name', version >= 18 ? 'domain' : 'args', 'operator', 'limit'],
      run: (env, _ids, kw) =>
        env.nameSearch(
          currentModel(env),
          String(kw.name ?? ''),
          ((version >= 18 ? kw.domain : kw.args) ?? []) as unknown[],
          String(kw.operator ?? 'ilike'),
          num(kw.limit, 100),
        ),
    },
    unlink: {
      api: 'records',
      run: (env, ids) => {
        env.unlink(currentModel(env), ids);
        return true;
      },
    },
    // Any user may call it: Odoo reads ir.model.data as superuser (models.py _get_external_ids).
    get_external_id: {
      api: 'records',
      run: (env, ids) => {
        const model = currentModel(env);
        const out: Record<string, string> = {};
        for (const rid of ids) {
          const row = env.db.all('ir.model.data').find((d) => d.model === model && d.res_id === rid);
          out[String(rid)] = row ? `${String(row.module)}.${String(row.name)}` : '';
        }
        return out;
      },
    },
    exists: {
      api: 'records',
      run: (env, ids) => ids.filter((id) => env.get(currentModel(env), id)),
    },
    load: {
      api: 'model',
      params: ['fields', 'data'],
      required: 2,
      run: (env, _ids, kw) => env.load(currentModel(env), kw.fields as string[], kw.data as unknown[][]),
    },
    fields_get: {
      api: 'model',
      params: ['allfields', 'attributes'],
      run: (env, _ids, kw) => env.fieldsGet(currentModel(env), list(kw.allfields), list(kw.attributes)),
    },
    // Model access rights of the calling user: check_access_rights on every version
    // (deprecated since 18), has_access on an empty recordset from 18.
    check_access_rights: {
      api: 'model',
      params: ['operation', 'raise_exception'],
      required: 1,
      run: (env, _ids, kw) => {
        const def = env.model(currentModel(env));
        const op = accessOperation(kw.operation);
        if (kw.raise_exception !== false) env.checkAccess(def, op);
        return env.allowed(def, op);
      },
    },
    ...(version >= 18
      ? {
          has_access: {
            api: 'records',
            params: ['operation'],
            required: 1,
            run: (env, _ids, kw) => env.allowed(env.model(currentModel(env)), accessOperation(kw.operation)),
          } satisfies MethodDef,
        }
      : {}),
  };
}

function accessOperation(v: unknown): AccessOperation {
  if (typeof v === 'string' && v in RIGHT_INDEX) return v as AccessOperation;
  throw valueError(`Invalid access mode: ${String(v)}`);
}

/** The model of the running call (set by callMethod). */
function currentModel(env: Env): string {
  const m = env.context.__model;
  if (typeof m !== 'string') throw new Error('no current model');
  return m;
}

/**
 * Bind arguments as Python would (positional after ids, then by name), with
 * the TypeError messages of inspect.Signature.bind.
 */
export function bindArguments(m: MethodDef, positional: unknown[], kwargs: Record<string, unknown>): Record<string, unknown> {
  const params = m.params ?? [];
  if (positional.length > params.length) {
    throw typeError(`too many positional arguments`);
  }
  const out: Record<string, unknown> = {};
  positional.forEach((v, i) => {
    out[params[i]!] = v;
  });
  for (const [k, v] of Object.entries(kwargs)) {
    if (!params.includes(k)) throw typeError(`got an unexpected keyword argument '${k}'`);
    if (k in out) throw typeError(`multiple values for argument '${k}'`);
    out[k] = v;
  }
  for (let i = 0; i < (m.required ?? 0); i++) {
    if (!(params[i]! in out)) throw typeError(`missing a required argument: '${params[i]}'`);
  }
  return out;
}

/** Run one method in a transaction. `ids` is undefined for model methods called without ids. */
export function callMethod(env: Env, model: string, name: string, ids: number[], kw: Record<string, unknown>): unknown {
  const m = env.method(model, name);
  const e = env.withContext({ __model: model });
  return env.db.transaction(() => m.run(e, m.api === 'model' ? [] : ids, kw));
}
