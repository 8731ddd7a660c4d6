import type Database from 'better-sqlite3';
import type { OutboxStore } from './store';

/** One cached Odoo record: its kind (product, lot, production, workcenter), Odoo id, and what the agent keeps of it. */
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
    all: Database.Statement;
    refreshed: Database.Statement;
  };

  constructor(private readonly store: OutboxStore) {
    const db = store.db;
    this.st = {
      insert: db.prepare(`INSERT INTO master_data(kind, key, value) VALUES (?, ?, ?)`),
      meta: db.prepare(
        `INSERT INTO master_data_meta(kind, refreshed_at, rows) VALUES (?, ?, ?) ON CONFLICT(kind) DO UPDATE SET refreshed_at = excluded.refreshed_at, rows = excluded.rows`,
      ),
      clear: db.prepare(`DELETE FROM master_data`),
      all: db.prepare(`SELECT kind, key, value FROM master_data`),
      refreshed: db.prepare(`SELECT max(refreshed_at) AS at FROM master_data_meta`),
    };
  }

  /** Replace everything with what Odoo had at `at`, in one transaction; `kinds` are stamped even when they have no row. */
  replace(rows: readonly MasterDataRow[], kinds: readonly string[], at: number): void {
    this.store.write(() => {
      this.st.clear.run();
      for (const r of rows) this.st.insert.run(r.kind, r.key, JSON.stringify(r.value));
      for (const kind of kinds) this.st.meta.run(kind, at, rows.filter((r) => r.kind === kind).length);
    });
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
