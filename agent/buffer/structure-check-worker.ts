/** Worker thread of `checkStructure`: quick_check on a read-only connection of its own, the problems posted back. */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { structureProblems } from './store';

const { path, max } = workerData as { path: string; max: number };
let problems: string[];
try {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    problems = structureProblems(db, 'quick_check', max);
  } finally {
    db.close();
  }
} catch (err) {
  problems = [(err as Error).message];
}
parentPort!.postMessage(problems);
