import type Database from 'better-sqlite3';
import { touch, type KeyIndex } from './key-index';
import type { EventCheck, RecheckResult } from './outbox';
import { eventOf, type EventRow, type OutboxStore } from './store';

/**
 * The edge check after the fact: when master data arrives from Odoo, events
 * queued before there was any (still pending, never claimed) are checked, and
 * flagged events are looked at again: those the new data accepts go back to
 * pending by themselves (a product created in Odoo since the last pull). Each
 * event keeps its seq, so its place in its key does not change.
 */
export class EdgeFlags {
  private readonly st: ReturnType<typeof prepare>;

  constructor(
    private readonly store: OutboxStore,
    private readonly keys: KeyIndex,
  ) {
    this.st = prepare(store.db);
  }

  recheck(check: EventCheck): RecheckResult {
    const result: RecheckResult = { checked: 0, flagged: 0, released: 0 };
    if (!check.ready) return result;
    return this.store.write(() => {
      const now = this.store.now();
      const touched = new Map<string, number>();
      const released: string[] = [];
      let rows: EventRow[];
      let after = 0;
      // In pages: events queued before the first pull may be many.
      while ((rows = this.st.toCheck.all(after, after, PAGE) as EventRow[]).length > 0) {
        after = rows[rows.length - 1]!.seq;
        for (const row of rows) this.one(check, row, now, result, touched, released);
      }
      this.st.clearUnchecked.run();
      this.keys.advanceAll(touched);
      if (released.length) {
        this.st.audit.run(now, 'agent', 'release', JSON.stringify({ why: 'the master data from Odoo accepts them now', ids: released }));
      }
      return result;
    });
  }

  private one(check: EventCheck, row: EventRow, now: number, result: RecheckResult, touched: Map<string, number>, released: string[]): void {
    if (row.state !== 'pending' && row.state !== 'flagged') return;
    result.checked++;
    const flag = check.check(eventOf(row));
    if (row.state === 'pending') {
      if (!flag) return;
      this.st.flag.run(flag.blocking ? 1 : 0, flag.reason, flag.code, now, row.seq);
      this.store.bump(-1, 'pending');
      this.store.bump(1, 'flagged');
      result.flagged++;
      touch(touched, row.skey, row.seq);
    } else if (!flag) {
      this.st.release.run(now, row.seq);
      this.store.bump(-1, 'flagged');
      this.store.bump(1, 'pending');
      result.released++;
      released.push(row.id);
      touch(touched, row.skey, row.seq);
    } else if (flag.reason !== row.error) {
      this.st.flag.run(flag.blocking ? 1 : 0, flag.reason, flag.code, now, row.seq);
    }
  }
}

const PAGE = 1000;

function prepare(db: Database.Database) {
  return {
    // Both partial indexes (migration 7): events never checked, and flagged events.
    toCheck: db.prepare(
      `SELECT * FROM events WHERE seq IN (SELECT seq FROM events WHERE unchecked = 1 AND seq > ? UNION SELECT seq FROM events WHERE state = 'flagged' AND seq > ?)
       ORDER BY seq LIMIT ?`,
    ),
    flag: db.prepare(`UPDATE events SET state = 'flagged', blocking = ?, error = ?, error_code = ?, updated_at = ? WHERE seq = ?`),
    release: db.prepare(`UPDATE events SET state = 'pending', blocking = 1, error = NULL, error_code = NULL, updated_at = ? WHERE seq = ?`),
    clearUnchecked: db.prepare(`UPDATE events SET unchecked = 0 WHERE unchecked = 1`),
    audit: db.prepare(`INSERT INTO audit(at, actor, action, detail) VALUES (?, ?, ?, ?)`),
  };
}
