import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { isLockDateRefusal } from '../../agent/odoo/classify';
import { firstOpenTime } from '../../agent/sync/closed-period';
import { MasterDataCache } from '../../agent/sync/master-data';
import { inventoryMoved } from '../../agent/sync/operations/inventory-moved';
import { Fixtures, read, readId } from './fixtures';
import { ev, onEveryOdoo } from './harness';

/**
 * Odoo's lock dates as the agent meets them (with stock_account installed):
 * the master data pull reads them, a transfer dated before the lock date is
 * refused by Odoo 19 and accepted by 17 and 18 (which is why the agent holds
 * it before sending), and the same transfer written at the first open date
 * goes through. The lock date is set by the administrator and put back.
 */
onEveryOdoo(
  'closed periods',
  (s) => {
    const moved = inventoryMoved();
    const LOCK = '2020-12-31';

    test('the lock date is read with the master data; a transfer dated before it: Odoo 19 refuses, post at first open date goes through', async () => {
      const [company] = await read(s.t.odoo, 'res.company', [], ['id', 'fiscalyear_lock_date']);
      assert.ok(company, 'the bot sees its company');
      const before = company.fiscalyear_lock_date;
      const setLock = (date: unknown) =>
        // res.company.write names its argument `values` on 17 and 18, `vals` on 19.
        s.t.admin.call('res.company', 'write', {
          ids: [company.id as number],
          kwargs: { [s.t.server.major >= 19 ? 'vals' : 'values']: { fiscalyear_lock_date: date } },
        });
      await setLock(LOCK);
      const dir = mkdtempSync(join(tmpdir(), 'closed-period-ops-'));
      const outbox = new SqliteOutbox({ path: join(dir, 'outbox.db') });
      try {
        const cache = new MasterDataCache(outbox.masterData);
        await cache.refresh(s.t.odoo);
        assert.equal(cache.closedUntil(), LOCK, JSON.stringify(cache.lockDates()));

        const fx = new Fixtures(s.t);
        const prod = await fx.product('LOCK');
        await fx.stock(prod.id, 10);
        const bin = await fx.sublocation();
        const transfer = { kind: 'transfer', product: prod.code, quantity: 1, fromLocation: 'WH/Stock', toLocation: bin.completeName } as const;
        const locked = ev('inventory.moved', transfer, { occurredAt: '2020-06-01T10:00:00.000Z' });
        if (s.t.server.major >= 19) {
          await assert.rejects(moved.execute(locked, s.t.ctx), (err: unknown) => {
            assert.ok(err instanceof Error && isLockDateRefusal(err), String(err));
            assert.match(err.message, /You cannot modify the scheduled date of this operation because it falls within a locked fiscal period\./);
            return true;
          });
        } else {
          // 17 and 18 take a transfer dated in a locked period (and re-date its accounting entry by themselves).
          const r = await moved.execute(locked, s.t.ctx);
          const p = await readId(s.t.odoo, 'stock.picking', r.odooIds['stock.picking'] as number, ['state', 'scheduled_date']);
          assert.equal(p.state, 'done');
        }

        // Post at first open date: the same fact, written at the day after the lock.
        const writeAt = firstOpenTime(LOCK, Date.now());
        assert.equal(writeAt, '2021-01-01T12:00:00.000Z');
        const posted = { ...ev('inventory.moved', transfer, { occurredAt: '2020-06-01T11:00:00.000Z' }), writeAt };
        const r = await moved.execute(posted, s.t.ctx);
        const p = await readId(s.t.odoo, 'stock.picking', r.odooIds['stock.picking'] as number, ['state', 'scheduled_date']);
        assert.equal(p.state, 'done');
        assert.equal(p.scheduled_date, '2021-01-01 12:00:00', 'Odoo holds the first open date');
      } finally {
        await setLock(before ?? false);
        await outbox.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
  { modules: ['stock_account'] },
);
