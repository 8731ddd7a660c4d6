/**
 * Child process for the crash test: enqueues events in a loop, as several
 * concurrent writers, and prints `ok <id> <key>` once each enqueue resolved.
 * The parent SIGKILLs it at a random moment.
 */
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { makeProduction } from '../helpers/events';

const path = process.argv[2]!;
const round = process.argv[3] ?? '0';
const outbox = new SqliteOutbox({ path, synchronous: 'FULL' });
let counter = 0;

async function writer(w: number): Promise<void> {
  for (;;) {
    const size = 1 + ((counter * 7 + w) % 13);
    const batch = Array.from({ length: size }, () => {
      counter++;
      return makeProduction(`MO-${w % 4}`, counter, `r${round}-w${w}-${counter}`);
    });
    await outbox.enqueue(batch);
    process.stdout.write(batch.map((e) => `ok ${e.id} ${e.sequenceKey}\n`).join(''));
  }
}

for (let w = 0; w < 6; w++) void writer(w);
