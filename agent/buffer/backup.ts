import { renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AgentError } from '../errors';
import { structureProblems } from './store';

/**
 * Copy the outbox to `file` with SQLite's backup API, in one step: one read
 * transaction, so the copy is the outbox at one moment and writers (the
 * running agent) are never held up in WAL mode. Written beside `file` first
 * and renamed when checked, so an interrupted backup never leaves a partial
 * file under that name.
 */
export async function backupTo(db: Database.Database, file: string): Promise<number> {
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  try {
    const { totalPages } = await db.backup(partial, { progress: () => 0x7fffffff });
    const copy = new Database(partial);
    let problems: string[];
    try {
      problems = structureProblems(copy, 'quick_check');
    } finally {
      copy.close();
    }
    if (problems.length) throw new AgentError('BACKUP_FAILED', `the copy in ${partial} does not check out: ${problems.join('; ')}`);
    renameSync(partial, file);
    return totalPages;
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}
