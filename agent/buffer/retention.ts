import { pruneFlowMembers } from './flows';
import type { OutboxStore } from './store';

/** Rows removed by one run of the retention job. */
export interface PruneResult {
  events: number;
  invalid: number;
  flowMembers: number;
}

const CHUNK = 5000;

/**
 * The audit trail's end: delivered and skipped events, released flow members
 * and invalid input older than their ages are deleted, in small transactions
 * so that delivery is never held up for long.
 */
export function prune(store: OutboxStore, doneBefore: number, invalidBefore: number): PruneResult {
  const db = store.db;
  const finished = db.prepare(`SELECT seq, state FROM events WHERE state IN ('done', 'skipped') AND updated_at < ? LIMIT ${CHUNK}`);
  const del = db.prepare(`DELETE FROM events WHERE seq = ?`);
  let events = 0;
  for (;;) {
    const removed = store.write(() => {
      const rows = finished.all(doneBefore) as Array<{ seq: number; state: 'done' | 'skipped' }>;
      let done = 0;
      for (const r of rows) {
        del.run(r.seq);
        if (r.state === 'done') done++;
      }
      store.bump(-done, 'done');
      store.bump(-(rows.length - done), 'skipped');
      return rows.length;
    });
    events += removed;
    if (removed < CHUNK) break;
  }
  const invalid = store.write(() => {
    const n = db.prepare(`DELETE FROM invalid_input WHERE created_at < ?`).run(invalidBefore).changes;
    store.bump(-n, 'invalid');
    // Conflicts are kept as long as invalid input: both are input a person may want to see.
    store.bump(-db.prepare(`DELETE FROM conflicts WHERE at < ?`).run(invalidBefore).changes, 'conflicts');
    return n;
  });
  // Released members of flows keep their ids (duplicates) as long as delivered events do.
  const flowMembers = pruneFlowMembers(db, doneBefore, (fn) => store.write(fn));
  return { events, invalid, flowMembers };
}
