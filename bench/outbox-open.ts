/** Child of the outbox benchmark: RSS idle, then open a large outbox and time the first claim. Prints JSON. */
import { SqliteOutbox } from '../agent/buffer/sqlite-outbox';

const mb = () => process.memoryUsage().rss / 1024 / 1024;
// Load the module graph first so its code is part of "idle".
void SqliteOutbox;
global.gc?.();
const idleRssMb = mb();
const t0 = process.hrtime.bigint();
const o = new SqliteOutbox({ path: process.argv[2]!, synchronous: 'FULL', maxEvents: 10_000_000 });
const claimed = o.claim(100);
const firstClaimMs = Number(process.hrtime.bigint() - t0) / 1e6;
const openRssMb = mb();
if (claimed.length === 0) throw new Error('nothing claimed');
void o.close().then(() => process.stdout.write(JSON.stringify({ idleRssMb, openRssMb, firstClaimMs })));
