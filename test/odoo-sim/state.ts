import { callMethod, Database, Env, type Rec } from './orm';
import { seedModule } from './seed';

/** What a test sees of the simulator's database: read records, call methods as the administrator. */
export class SimState {
  constructor(
    readonly db: Database,
    readonly adminUid: number,
    readonly botUid: number,
  ) {}

  /** An environment (administrator by default) for direct ORM calls. */
  env(opts: { asBot?: boolean; context?: Record<string, unknown> } = {}): Env {
    return new Env(this.db, opts.asBot ? this.botUid : this.adminUid, { tz: 'UTC', ...(opts.context ?? {}) }, !opts.asBot);
  }

  /** Stored records of a model (optionally filtered by a domain), as kept in memory. */
  records(model: string, domain: unknown[] = []): Rec[] {
    const env = this.env({ context: { active_test: false } });
    const ids = env.search(model, domain, {});
    return ids.map((id) => this.db.get(model, id)!);
  }

  get(model: string, id: number): Rec | undefined {
    return this.db.get(model, id);
  }

  /** read() as a client would see it (many2one as [id, name]). */
  read(model: string, ids: number[], fields?: string[]): Array<Record<string, unknown>> {
    return this.env().read(model, ids, fields);
  }

  count(model: string, domain: unknown[] = []): number {
    return this.records(model, domain).length;
  }

  /** The record an external id (`module.name`) points at. */
  byXmlid(xmlid: string): Rec | undefined {
    const t = this.env().xmlidTarget(xmlid);
    return t ? this.db.get(t.model, t.resId) : undefined;
  }

  /** Id of the record an external id points at; throws when there is none. */
  ref(xmlid: string): number {
    const t = this.env().xmlidTarget(xmlid);
    if (!t) throw new Error(`no record for external id ${xmlid}`);
    return t.resId;
  }

  /** Call a model method in one transaction, as the administrator. */
  call(model: string, method: string, params: { ids?: number[]; kwargs?: Record<string, unknown>; context?: Record<string, unknown> } = {}): unknown {
    return callMethod(this.env({ context: params.context }), model, method, params.ids ?? [], params.kwargs ?? {});
  }

  create(model: string, vals: Record<string, unknown>): number {
    return this.db.transaction(() => this.env().create(model, vals));
  }

  write(model: string, ids: number[], vals: Record<string, unknown>): void {
    this.db.transaction(() => this.env().write(model, ids, vals));
  }

  /** Install or remove a module (its models appear or disappear; installing brings its data). */
  setModule(name: string, installed: boolean): void {
    if (installed) this.db.installed.add(name);
    else this.db.installed.delete(name);
    const env = this.env();
    if (installed) this.db.transaction(() => seedModule(env, name));
    else {
      // Uninstalling drops the module's models from ir.model (their data stays, as the simulator keeps it for a reinstall).
      for (const m of this.db.all('ir.model').filter((r) => r.modules === name)) this.db.remove('ir.model', m.id);
    }
    for (const m of this.db.all('ir.module.module').filter((r) => r.name === name)) {
      env.set('ir.module.module', m.id, { state: installed ? 'installed' : 'uninstalled' });
    }
  }
}
