import assert from 'node:assert/strict';
import { test } from 'node:test';
import { qualityRecorded } from '../../agent/sync/operations/quality-recorded';
import { OperationError } from '../../agent/sync/operations/types';
import { Fixtures, create, read, readId } from './fixtures';
import { ev, onEveryOdoo, type Suite } from './harness';

async function installed(s: Suite, name: string): Promise<boolean> {
  const rows = await read(
    s.t.admin,
    'ir.module.module',
    [
      ['name', '=', name],
      ['state', '=', 'installed'],
    ],
    ['id'],
  );
  return rows.length > 0;
}

async function hasModel(s: Suite, model: string): Promise<boolean> {
  try {
    await s.t.admin.call('ir.model', 'search_count', { kwargs: { domain: [['model', '=', model]] } }).then((n) => {
      if (n === 0) throw new Error('no model');
    });
    await read(s.t.admin, model, [], ['id'], { limit: 1 });
    return true;
  } catch {
    return false;
  }
}

onEveryOdoo('quality.recorded without a quality app', (s) => {
  test('parks: no quality module installed', async (t) => {
    if ((await installed(s, 'quality_control')) || (await installed(s, 'quality_control_oca'))) {
      t.skip(`${s.t.label} has a quality app installed`);
      return;
    }
    await assert.rejects(qualityRecorded().execute(ev('quality.recorded', { test: 'Diameter', result: 'pass' }), s.t.ctx), (err: unknown) => {
      assert.ok(err instanceof OperationError);
      assert.equal(err.action, 'park');
      assert.equal(err.code, 'NO_QUALITY_MODULE');
      assert.equal(err.message, 'no quality module installed in Odoo (quality_control or quality_control_oca)');
      return true;
    });
  });
});

onEveryOdoo(
  'quality.recorded with Odoo Enterprise quality_control',
  (s) => {
    test('a keyed quality.check on the named point, passed once', async (t) => {
      if (!(await installed(s, 'quality_control'))) return t.skip(`${s.t.label}: quality_control is not installed`);
      if (!(await hasModel(s, 'quality.point'))) return t.skip(`${s.t.label}: no quality.point model (simulator gap)`);
      const fx = new Fixtures(s.t);
      const prod = await fx.product('QC');
      const title = fx.name('POINT');
      await create(s.t.admin, 'quality.point', { title, product_ids: [[6, 0, [prod.id]]] });
      const e = ev('quality.recorded', { test: title, result: 'fail', product: prod.code, measure: 10.2, note: 'burr' });
      const op = qualityRecorded();
      const r1 = await op.execute(e, s.t.ctx);
      const id = r1.odooIds['quality.check'] as number;
      assert.equal((await readId(s.t.odoo, 'quality.check', id, ['quality_state'])).quality_state, 'fail');
      const r2 = await op.execute(e, s.t.ctx);
      assert.equal(r2.alreadyApplied, true);
      assert.equal(r2.odooIds['quality.check'], id);
    });
  },
  { modules: ['quality_control'] },
);

onEveryOdoo(
  'quality.recorded with OCA quality_control_oca',
  (s) => {
    test('a keyed qc.inspection on the named test, confirmed once', async (t) => {
      if (!(await installed(s, 'quality_control_oca'))) return t.skip(`${s.t.label}: quality_control_oca is not installed`);
      if (!(await hasModel(s, 'qc.test'))) return t.skip(`${s.t.label}: no qc.test model (simulator gap)`);
      const fx = new Fixtures(s.t);
      const name = fx.name('TEST');
      await create(s.t.admin, 'qc.test', { name });
      const e = ev('quality.recorded', { test: name, result: 'pass' });
      const op = qualityRecorded();
      const r1 = await op.execute(e, s.t.ctx);
      const id = r1.odooIds['qc.inspection'] as number;
      assert.equal((await readId(s.t.odoo, 'qc.inspection', id, ['state'])).state, 'success');
      assert.equal((await op.execute(e, s.t.ctx)).alreadyApplied, true);
    });
  },
  { modules: ['quality_control_oca'] },
);
