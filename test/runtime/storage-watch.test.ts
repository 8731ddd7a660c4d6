import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import pino from 'pino';
import type { WriteHealth } from '../../agent/buffer/intake';
import { StorageWatch } from '../../agent/runtime/storage-watch';

const healthy: WriteHealth = { failingSince: null, lastError: null, failures: 0 };

function watch(stored: number, write: WriteHealth = healthy, lowDiskMb = 0) {
  return new StorageWatch({
    outboxPath: join(tmpdir(), 'outbox.db'),
    maxEvents: 1000,
    lowDiskMb,
    highWater: 0.8,
    stored: () => stored,
    write: () => write,
    log: pino({ level: 'silent' }),
    everyMs: 60_000,
  });
}

it('says low at the high-water share of the outbox bound, before the bound refuses anything', () => {
  const below = watch(799);
  assert.equal(below.status().state, 'ok');
  const at = watch(800);
  assert.equal(at.status().state, 'low');
  assert.match(at.status().reasons.join(), /holds 80% of its 1000 events/);
  below.stop();
  at.stop();
});

it('says low when the outbox disk has less free space than configured', () => {
  const w = watch(0, healthy, 1e12);
  const s = w.status();
  assert.equal(s.state, 'low');
  assert.ok(s.freeBytes !== null && s.freeBytes > 0);
  assert.match(s.reasons.join(), /MB free on the outbox's disk/);
  w.stop();
});

it('says failing while commits fail, whatever the space', () => {
  const failing: WriteHealth = { failingSince: 1, lastError: { code: 'SQLITE_FULL', message: 'database or disk is full', at: 1 }, failures: 3 };
  const w = watch(0, failing);
  assert.equal(w.status().state, 'failing');
  assert.match(w.status().reasons.join(), /commits fail: database or disk is full/);
  w.stop();
});
