import type Database from 'better-sqlite3';
import type { OutboxStore } from './store';

/** One cached Odoo record: its kind (product, lot, production, workorder, workcenter, loss, location, uom, equipment), Odoo id, and what the agent keeps of it. */
export interface MasterDataRow {
  kind: string;
  key: string;
  value: unknown;
}

/**
 * Where master data pulled from Odoo is kept, in the outbox file, so rules can
 * check a scanned lot or an order while the WAN is down, also after a restart.
 * The pull itself is agent/sync/master-data.ts.
 */
export class MasterDataStore {
  private readonly st: {
    insert: Database.Statement;
    meta: Database.Statement;
    clear: Database.Statement;
    clearMeta: Database.Statement;
    all: Database.Statement;
    refreshed: Database.Statement;
    kinds: Database.Statement;
  };

  constructor(private readonly store: OutboxStore) {
    const db = store.db;
    this.st = {
      insert: db.prepare(`INSERT INTO master_data(kind, key, value) VALUES (?, ?, ?)`),
      meta: db.prepare(
        `INSERT INTO master_data_meta(kind, refreshed_at, rows) VALUES (?, ?, ?) ON CONFLICT(kind) DO UPDATE SET refreshed_at = excluded.refreshed_at, rows = excluded.rows`,
      ),
      clear: db.prepare(`DELETE FROM master_data`),
      clearMeta: db.prepare(`DELETE FROM master_data_meta`),
      all: db.prepare(`SELECT kind, key, value FROM master_data`),
      refreshed: db.prepare(`SELECT max(refreshed_at) AS at FROM master_data_meta`),
      kinds: db.prepare(`SELECT kind FROM master_data_meta`).pluck(),
    };
  }

  /**
   * Replace everything with what Odoo had at `at`, in one transaction; `kinds`
   * are the kinds pulled, stamped even when they have no row (a kind not
   * stamped was not pulled, and is not checked).
   */
  replace(rows: readonly MasterDataRow[], kinds: readonly string[], at: number): void {
    const per = new Map<string, number>();
    for (const r of rows) per.set(r.kind, (per.get(r.kind) ?? 0) + 1);
    this.store.write(() => {
      this.st.clear.run();
      this.st.clearMeta.run();
      for (const r of rows) this.st.insert.run(r.kind, r.key, JSON.stringify(r.value));
      for (const kind of kinds) this.st.meta.run(kind, at, per.get(kind) ?? 0);
    });
  }

  /** The kinds the last pull brought. */
  kinds(): string[] {
    return this.st.kinds.all() as string[];
  }

  *rows(): Iterable<MasterDataRow> {
    for (const r of this.st.all.iterate() as Iterable<{ kind: string; key: string; value: string }>)
      yield { kind: r.kind, key: r.key, value: JSON.parse(r.value) as unknown };
  }

  /** When master data was last replaced (ms), or null when never. */
  refreshedAt(): number | null {
    return (this.st.refreshed.get() as { at: number | null }).at;
  }
}
