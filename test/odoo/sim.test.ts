import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOdooClient } from '../../agent/odoo/client';
import { OdooError, type LoadResult, type OdooClient } from '../../agent/odoo/types';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { rejection, silentLogger, simConfig } from './helpers';

/** The wire formats, checked against odoo/http.py (serialize_exception, JsonRPCDispatcher, Json2Dispatcher). */
describe('simulator wire formats', () => {
  const sims: Record<number, OdooSim> = {};
  before(async () => {
    for (const v of [17, 18, 19] as const) sims[v] = await startOdooSim({ version: v, seed: false });
  });
  after(async () => {
    await Promise.all(Object.values(sims).map((s) => s.close()));
  });

  const rpc = (sim: OdooSim, service: string, method: string, args: unknown[]) =>
    fetch(`${sim.url}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: 7 }),
    });

  it('/web/version answers on 19 only', async () => {
    const r19 = await fetch(`${sims[19]!.url}/web/version`);
    assert.equal(r19.status, 200);
    assert.deepEqual(await r19.json(), { version_info: [19, 0, 0, 'final', 0, ''], version: '19.0' });
    assert.equal((await fetch(`${sims[18]!.url}/web/version`)).status, 404);
    assert.equal((await fetch(`${sims[17]!.url}/web/version`)).status, 404);
  });

  it('/json/2 is a 303 to the login page on 18 and a 404 page on 17', async () => {
    const r18 = await fetch(`${sims[18]!.url}/json/2/res.users/context_get`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(r18.status, 303);
    assert.match(r18.headers.get('location') ?? '', /^\/web\/login\?redirect=/);
    const r17 = await fetch(`${sims[17]!.url}/json/2/res.users/context_get`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(r17.status, 404);
    assert.match(r17.headers.get('content-type') ?? '', /text\/html/);
  });

  it('JSON-RPC errors come at HTTP 200 with code 0 (19) or 200 (17, 18) and serialize_exception data', async () => {
    for (const [v, code] of [
      [19, 0],
      [18, 200],
      [17, 200],
    ] as const) {
      const sim = sims[v]!;
      const res = await rpc(sim, 'object', 'execute_kw', [
        sim.db,
        sim.uid,
        sim.apiKey,
        'mrp.workcenter.productivity',
        'write',
        [[99999], { description: 'x' }],
        {},
      ]);
      assert.equal(res.status, 200);
      const body = (await res.json()) as {
        jsonrpc: string;
        id: number;
        result?: unknown;
        error: { code: number; message: string; data: Record<string, unknown> };
      };
      assert.equal(body.jsonrpc, '2.0');
      assert.equal(body.id, 7);
      assert.equal('result' in body, false);
      assert.equal(body.error.code, code);
      assert.equal(body.error.message, 'Odoo Server Error');
      assert.deepEqual(Object.keys(body.error.data).sort(), ['arguments', 'context', 'debug', 'message', 'name']);
      assert.equal(body.error.data.name, 'odoo.exceptions.MissingError');
    }
  });

  it('JSON-RPC leaves out result when the method returns None, and authenticate answers false for a bad key', async () => {
    const sim = sims[18]!;
    const none = (await (
      await rpc(sim, 'object', 'execute_kw', [sim.db, sim.uid, sim.apiKey, 'stock.quant', 'action_apply_inventory', [[]], {}])
    ).json()) as Record<string, unknown>;
    assert.equal('result' in none, false);
    assert.equal('error' in none, false);
    const auth = (await (await rpc(sim, 'common', 'authenticate', [sim.db, sim.login, 'wrong', {}])).json()) as { result: unknown };
    assert.equal(auth.result, false);
    const ok = (await (await rpc(sim, 'common', 'authenticate', [sim.db, sim.login, sim.apiKey, {}])).json()) as { result: unknown };
    assert.equal(ok.result, sim.uid);
  });

  it('JSON-RPC create by name fails with IndexError and writes nothing (as real execute_kw does)', async () => {
    const sim = sims[18]!;
    const before = sim.state.count('uom.uom');
    const res = (await (
      await rpc(sim, 'object', 'execute_kw', [sim.db, sim.uid, sim.apiKey, 'uom.uom', 'create', [], { vals_list: [{ name: 'Box' }] }])
    ).json()) as {
      error: { data: { name: string } };
    };
    assert.equal(res.error.data.name, 'builtins.IndexError');
    assert.equal(sim.state.count('uom.uom'), before);
    const single = (await (await rpc(sim, 'object', 'execute_kw', [sim.db, sim.uid, sim.apiKey, 'uom.uom', 'create', [{ name: 'Box' }], {}])).json()) as {
      result: unknown;
    };
    assert.equal(typeof single.result, 'number', 'a dict gives one id');
  });

  it('JSON-2 errors carry real statuses and the exception body', async () => {
    const sim = sims[19]!;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${sim.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `bearer ${sim.apiKey}`, 'x-odoo-database': sim.db, ...headers },
        body: JSON.stringify(body),
      });
    const missing = await post('/json/2/mrp.workcenter.productivity/write', { ids: [99999], vals: { description: 'x' } });
    assert.equal(missing.status, 404);
    const mb = (await missing.json()) as Record<string, unknown>;
    assert.equal(mb.name, 'odoo.exceptions.MissingError');
    assert.deepEqual(Object.keys(mb).sort(), ['arguments', 'context', 'debug', 'message', 'name']);

    const noKey = await post('/json/2/res.users/context_get', {}, { authorization: 'bearer nope' });
    assert.equal(noKey.status, 401);
    assert.match(noKey.headers.get('www-authenticate') ?? '', /bearer/i);
    assert.equal(((await noKey.json()) as Record<string, unknown>).name, 'werkzeug.exceptions.Unauthorized');

    const withIds = await post('/json/2/res.users/search_count', { ids: [1], domain: [] });
    assert.equal(withIds.status, 422);
    const badArg = await post('/json/2/res.users/search_count', { domain: [], colour: 'red' });
    assert.equal(badArg.status, 422);
    assert.match(((await badArg.json()) as { message: string }).message, /unexpected keyword argument 'colour'/);

    const unknownModel = await post('/json/2/no.such.model/search', { domain: [] });
    assert.equal(unknownModel.status, 404);
    const priv = await post('/json/2/res.users/_compute_x', {});
    assert.equal(priv.status, 403);

    const wrongDb = await post('/json/2/res.users/context_get', {}, { 'x-odoo-database': 'other' });
    assert.equal(wrongDb.status, 404);
    assert.match(wrongDb.headers.get('content-type') ?? '', /text\/html/);

    const text = await fetch(`${sim.url}/json/2/res.users/context_get`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `bearer ${sim.apiKey}` },
      body: '{}',
    });
    assert.equal(text.status, 415);

    const none = await post('/json/2/stock.quant/action_apply_inventory', { ids: [] });
    assert.equal(none.status, 200);
    assert.equal(await none.text(), 'null');
  });
});

/** Odoo's state rules for the models the agent writes (ODOO.md, "Idempotency, as real Odoo behaves"). */
for (const version of [19, 18, 17] as const) {
  describe(`simulated plant on Odoo ${version}`, () => {
    let sim: OdooSim;
    let odoo: OdooClient;
    before(async () => {
      sim = await startOdooSim({ version });
      odoo = createOdooClient(simConfig(sim), silentLogger);
      await odoo.connect();
    });
    after(async () => {
      await odoo.close();
      await sim.close();
    });

    const read = async <T = Record<string, unknown>>(model: string, id: number, fields: string[]) =>
      (await odoo.call<T[]>(model, 'read', { ids: [id], kwargs: { fields } }))[0]!;

    it('seeds a demo plant', () => {
      assert.equal(sim.state.count('mrp.workcenter'), 3);
      assert.equal(sim.state.count('mrp.production', [['state', '=', 'confirmed']]), 3);
      assert.ok(sim.state.byXmlid('plant.product_gear_pump'));
      assert.equal(sim.state.count('maintenance.equipment'), 3);
      assert.ok(sim.state.count('stock.lot') >= 3);
    });

    it('load() is an upsert by external id, and all or nothing', async () => {
      const fields = ['id', 'workcenter_id/id', 'loss_id/id', 'date_start', 'date_end', 'description'];
      const row = ['edge_p1.evt_0001', 'plant.wc_cnc', 'mrp.block_reason1', '2025-03-01 10:00:00', '2025-03-01 10:07:00', 'spindle alarm'];
      const first = await odoo.call<LoadResult>('mrp.workcenter.productivity', 'load', { kwargs: { fields, data: [row] } });
      assert.equal(first.messages.length, 0);
      const replay = await odoo.call<LoadResult>('mrp.workcenter.productivity', 'load', {
        kwargs: { fields, data: [[...row.slice(0, 5), 'spindle alarm (edited)']] },
      });
      assert.deepEqual(replay.ids, first.ids);
      assert.equal(sim.state.get('mrp.workcenter.productivity', (first.ids as number[])[0]!)?.description, 'spindle alarm (edited)');

      const before = sim.state.count('mrp.workcenter.productivity');
      const mixed = await odoo.call<LoadResult>('mrp.workcenter.productivity', 'load', {
        kwargs: {
          fields,
          data: [
            ['edge_p1.evt_0002', 'plant.wc_cnc', 'mrp.block_reason1', '2025-03-01 11:00:00', '', 'ok row'],
            ['edge_p1.evt_0003', 'plant.wc_nope', 'mrp.block_reason1', '2025-03-01 12:00:00', '', 'bad row'],
          ],
        },
      });
      assert.equal(mixed.ids, false);
      assert.equal(mixed.messages[0]?.record, 1);
      assert.match(mixed.messages[0]?.message ?? '', /No matching record found for external id 'plant.wc_nope'/);
      assert.equal(sim.state.count('mrp.workcenter.productivity'), before, 'the good row was rolled back too');
      assert.equal(sim.state.byXmlid('edge_p1.evt_0002'), undefined);
    });

    it('load() resolves many2one by name, and reports a missing required field in messages', async () => {
      const ok = await odoo.call<LoadResult>('maintenance.request', 'load', {
        kwargs: { fields: ['id', 'name', 'equipment_id', 'priority'], data: [['edge_p1.mr_1', 'Oil leak on press', 'Assembly Press P-10/PR-0107', '2']] },
      });
      assert.equal(ok.messages.length, 0);
      const mr = sim.state.get('maintenance.request', (ok.ids as number[])[0]!)!;
      assert.equal(mr.equipment_id, sim.state.ref('plant.equipment_press'));
      const bad = await odoo.call<LoadResult>('maintenance.request', 'load', { kwargs: { fields: ['id', 'priority'], data: [['edge_p1.mr_2', '3']] } });
      assert.equal(bad.ids, false);
      assert.match(bad.messages[0]?.message ?? '', /Missing required value for the field 'Subjects'/);
    });

    it('manufacturing order: produced quantity, partial finish as a wizard, backorder with renaming, replay', async () => {
      const mo = sim.state.ref('plant.mo_valve_1');
      await odoo.call('mrp.production', 'write', { ids: [mo], kwargs: { vals: { qty_producing: 30 } } });
      await odoo.call('mrp.production', 'set_qty_producing', { ids: [mo] });
      const raw = sim.state.records('stock.move', [['raw_material_production_id', '=', mo]]);
      const housing = raw.find((m) => m.product_id === sim.state.ref('plant.product_valve_housing'))!;
      assert.equal(housing.quantity, 30);
      assert.equal(housing.picked, true);
      assert.equal((await read('mrp.production', mo, ['state'])).state, 'progress');

      const wizard = await odoo.call<Record<string, unknown>>('mrp.production', 'button_mark_done', { ids: [mo] });
      assert.equal(typeof wizard, 'object');
      assert.equal(wizard.res_model, 'mrp.production.backorder');
      assert.equal(sim.state.get('mrp.production', mo)?.state, 'progress', 'nothing done while a decision is pending');

      const done = await odoo.call<Record<string, unknown>>('mrp.production', 'button_mark_done', {
        ids: [mo],
        context: { skip_backorder: true, mo_ids_to_backorder: [mo], skip_consumption: true },
      });
      assert.equal(done.res_model, 'mrp.production');
      const backorderId = done.res_id as number;
      const original = await read('mrp.production', mo, ['name', 'state', 'product_qty', 'qty_produced']);
      const backorder = await read('mrp.production', backorderId, ['name', 'state', 'product_qty']);
      assert.deepEqual(original, { id: mo, name: 'WH/MO/00002-001', state: 'done', product_qty: 30, qty_produced: 30 });
      assert.deepEqual(backorder, { id: backorderId, name: 'WH/MO/00002-002', state: 'confirmed', product_qty: 20 });
      assert.equal(await odoo.call('mrp.production', 'button_mark_done', { ids: [mo] }), true, 'replay on a done order answers True');
    });

    it('finishing without a backorder (skip_backorder) closes the order at the produced quantity', async () => {
      const id = sim.state.create('mrp.production', { product_id: sim.state.ref('plant.product_valve_block'), product_qty: 4 });
      sim.state.call('mrp.production', 'action_confirm', { ids: [id] });
      await odoo.call('mrp.production', 'write', { ids: [id], kwargs: { vals: { qty_producing: 3 } } });
      await odoo.call('mrp.production', 'set_qty_producing', { ids: [id] });
      const r = await odoo.call('mrp.production', 'button_mark_done', { ids: [id], context: { skip_backorder: true, skip_consumption: true } });
      assert.equal(r, true);
      assert.equal(sim.state.get('mrp.production', id)?.state, 'done');
      assert.equal(sim.state.count('mrp.production', [['name', 'like', `${String(sim.state.get('mrp.production', id)?.name)}-`]]), 0);
    });

    it('lot-tracked product: the first mark-done makes the lot and returns None, the second finishes', async () => {
      const mo = sim.state.ref('plant.mo_pump_2');
      const first = await odoo.call('mrp.production', 'button_mark_done', { ids: [mo] });
      assert.equal(first, undefined);
      assert.notEqual(sim.state.get('mrp.production', mo)?.state, 'done');
      const second = await odoo.call('mrp.production', 'button_mark_done', { ids: [mo] });
      assert.equal(second, true);
      assert.equal(sim.state.get('mrp.production', mo)?.state, 'done');
      const pump = sim.state.ref('plant.product_gear_pump');
      assert.ok((await read<{ qty_available: number }>('product.product', pump, ['qty_available'])).qty_available >= 5);
    });

    it('work orders: start twice is one time log, pending closes it, finish is repeatable', async () => {
      const mo = sim.state.ref('plant.mo_pump_1');
      const [wo] = sim.state.records('mrp.workorder', [['production_id', '=', mo]]);
      await odoo.call('mrp.workorder', 'button_start', { ids: [wo!.id] });
      await odoo.call('mrp.workorder', 'button_start', { ids: [wo!.id] });
      const logs = sim.state.records('mrp.workcenter.productivity', [['workorder_id', '=', wo!.id]]);
      assert.equal(logs.length, 1);
      assert.equal(logs[0]!.date_end, false);
      assert.equal(sim.state.get('mrp.workorder', wo!.id)?.state, 'progress');
      assert.equal(sim.state.get('mrp.production', mo)?.state, 'progress');
      await odoo.call('mrp.workorder', 'button_pending', { ids: [wo!.id] });
      assert.notEqual(sim.state.records('mrp.workcenter.productivity', [['workorder_id', '=', wo!.id]])[0]!.date_end, false);
      assert.equal(await odoo.call('mrp.workorder', 'button_finish', { ids: [wo!.id] }), true);
      assert.equal(await odoo.call('mrp.workorder', 'button_finish', { ids: [wo!.id] }), true);
      assert.equal(sim.state.get('mrp.workorder', wo!.id)?.state, 'done');
      const err = await rejection(odoo.call('mrp.workorder', 'button_start', { ids: [wo!.id] }));
      assert.ok(err instanceof OdooError && err.action === 'park');
      const buttonDone = await rejection(odoo.call('mrp.workorder', 'button_done', { ids: [wo!.id] }));
      assert.ok(buttonDone instanceof OdooError);
      if (version === 19) assert.match(buttonDone.message, /does not exist/, 'button_done was removed in 19');
      else assert.match(buttonDone.message, /already done or cancelled/);
    });

    it('downtime on a work center blocks it until the log is closed', async () => {
      const wc = sim.state.ref('plant.wc_test');
      const ids = await odoo.call<number[]>('mrp.workcenter.productivity', 'create', {
        kwargs: { vals_list: [{ workcenter_id: wc, loss_id: sim.state.ref('mrp.block_reason1'), description: 'no air' }] },
      });
      assert.equal((await read('mrp.workcenter', wc, ['working_state'])).working_state, 'blocked');
      await odoo.call('mrp.workcenter.productivity', 'write', { ids, kwargs: { vals: { date_end: '2099-01-01 00:00:00' } } });
      assert.equal((await read('mrp.workcenter', wc, ['working_state'])).working_state, 'normal');
    });

    it('transfers: validate moves stock; validating a done transfer differs by version', async () => {
      const stock = sim.state.ref('stock.stock_location_stock');
      const bolt = sim.state.ref('plant.product_bolt_m8');
      const picking = sim.state.create('stock.picking', { picking_type_id: sim.state.ref('stock.picking_type_in') });
      sim.state.create('stock.move', {
        ...(version < 19 ? { name: 'bolts' } : {}),
        picking_id: picking,
        product_id: bolt,
        product_uom_qty: 100,
        location_id: sim.state.ref('stock.stock_location_suppliers'),
        location_dest_id: stock,
      });
      const before = (await read<{ qty_available: number }>('product.product', bolt, ['qty_available'])).qty_available;
      assert.equal(await odoo.call('stock.picking', 'button_validate', { ids: [picking] }), true);
      assert.equal((await read<{ qty_available: number }>('product.product', bolt, ['qty_available'])).qty_available, before + 100);
      if (version === 19) {
        assert.equal(await odoo.call('stock.picking', 'button_validate', { ids: [picking] }), true);
      } else {
        const err = await rejection(odoo.call('stock.picking', 'button_validate', { ids: [picking] }));
        assert.ok(err instanceof OdooError);
        assert.equal(err.odooName, 'odoo.exceptions.UserError');
      }
      assert.equal((await read<{ qty_available: number }>('product.product', bolt, ['qty_available'])).qty_available, before + 100, 'no double receipt');
    });

    it('scrap: validate takes stock out; a second validate scraps again (read the state first)', async () => {
      const seal = sim.state.ref('plant.product_seal_kit');
      const [id] = await odoo.call<number[]>('stock.scrap', 'create', { kwargs: { vals_list: [{ product_id: seal, scrap_qty: 2 }] } });
      const before = (await read<{ qty_available: number }>('product.product', seal, ['qty_available'])).qty_available;
      assert.equal(await odoo.call('stock.scrap', 'action_validate', { ids: [id!] }), true);
      assert.equal((await read('stock.scrap', id!, ['state'])).state, 'done');
      assert.equal((await read<{ qty_available: number }>('product.product', seal, ['qty_available'])).qty_available, before - 2);
      await odoo.call('stock.scrap', 'action_validate', { ids: [id!] });
      assert.equal((await read<{ qty_available: number }>('product.product', seal, ['qty_available'])).qty_available, before - 4);
    });

    it('inventory count: inventory_quantity then action_apply_inventory sets the total (idempotent)', async () => {
      const housing = sim.state.ref('plant.product_valve_housing');
      const [quant] = sim.state.records('stock.quant', [['product_id', '=', housing]]);
      for (let i = 0; i < 2; i++) {
        await odoo.call('stock.quant', 'write', { ids: [quant!.id], kwargs: { vals: { inventory_quantity: 77 } } });
        assert.equal(await odoo.call('stock.quant', 'action_apply_inventory', { ids: [quant!.id] }), undefined);
        assert.equal(sim.state.get('stock.quant', quant!.id)?.quantity, 77);
      }
    });

    it('consumption with lots on move lines', async () => {
      const mo = sim.state.ref('plant.mo_pump_1');
      const steelMove = sim.state.records('stock.move', [
        ['raw_material_production_id', '=', mo],
        ['product_id', '=', sim.state.ref('plant.product_steel_bar')],
      ])[0]!;
      // Lines add up with what confirmation reserved.
      const reserved = Number(steelMove.quantity ?? 0);
      await odoo.call('stock.move', 'write', {
        ids: [steelMove.id],
        kwargs: {
          vals: {
            move_line_ids: [
              [0, 0, { lot_id: sim.state.ref('plant.lot_steel_0001'), quantity: 12 }],
              [0, 0, { lot_name: 'ST-NEW-9', quantity: 8 }],
            ],
            picked: true,
          },
        },
      });
      const move = await read<{ quantity: number; picked: boolean }>('stock.move', steelMove.id, ['quantity', 'picked']);
      assert.equal(move.quantity, reserved + 20);
      const wrongLot = await rejection(
        odoo.call('stock.move.line', 'create', {
          kwargs: { vals_list: [{ move_id: steelMove.id, lot_id: sim.state.ref('plant.lot_pump_0001'), quantity: 1 }] },
        }),
      );
      assert.ok(wrongLot instanceof OdooError && wrongLot.odooName === 'odoo.exceptions.ValidationError');
    });

    it('version-specific fields', async () => {
      const fields = await odoo.call<Record<string, unknown>>('mrp.production', 'fields_get', { kwargs: { attributes: ['type'] } });
      if (version === 19) {
        assert.ok('lot_producing_ids' in fields && !('lot_producing_id' in fields));
      } else {
        assert.ok('lot_producing_id' in fields && !('lot_producing_ids' in fields));
      }
      const product = await odoo.call<Record<string, unknown>>('product.product', 'fields_get', { kwargs: { attributes: ['type'] } });
      assert.equal('is_storable' in product, version >= 18);
      assert.equal('detailed_type' in product, version === 17);
    });

    it('search with domains, order and limit; name_search by code', async () => {
      const ids = await odoo.call<number[]>('product.product', 'search', {
        kwargs: { domain: ['|', ['default_code', '=like', 'RM-%'], ['barcode', '=', '4006381333931']], order: 'default_code desc', limit: 3 },
      });
      const codes = ids.map((i) => sim.state.get('product.product', i)?.default_code);
      assert.deepEqual(codes, ['RM-STEEL', 'RM-SEAL', 'RM-HOUSING']);
      const hits = await odoo.call<Array<[number, string]>>('product.product', 'name_search', { kwargs: { name: 'RM-BOLT', operator: 'ilike', limit: 5 } });
      assert.deepEqual(
        hits.map((h) => h[1]),
        ['[RM-BOLT] Bolt M8x30'],
      );
      const n = await odoo.call<number>('mrp.workorder', 'search_count', {
        kwargs: {
          domain: [
            ['production_id.name', '=', 'WH/MO/00001'],
            ['workcenter_id.code', 'in', ['CNC1', 'ASM1']],
          ],
        },
      });
      assert.equal(n, 2);
    });

    /** A client of the administrator (master data is theirs to create). */
    const asAdmin = async <T>(fn: (admin: OdooClient) => Promise<T>): Promise<T> => {
      const admin = createOdooClient(simConfig(sim, { apiKey: sim.adminApiKey, username: 'admin' }), silentLogger);
      try {
        return await fn(admin);
      } finally {
        await admin.close();
      }
    };
    const create = async (client: OdooClient, model: string, vals: Record<string, unknown>) =>
      (await client.call<number[]>(model, 'create', { kwargs: { vals_list: [vals] } }))[0]!;
    const m2o = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : v);

    it('products have templates; a bill of materials names the template, its operations a manual duration', async () => {
      await asAdmin(async (admin) => {
        const storable = version >= 18 ? { type: 'consu', is_storable: true } : { detailed_type: 'product' };
        const pid = await create(admin, 'product.product', { name: 'Widget', default_code: 'W-1', ...storable });
        const p = await read<{ product_tmpl_id: [number, string]; name: string }>('product.product', pid, ['product_tmpl_id', 'name']);
        assert.deepEqual(p.product_tmpl_id[1], '[W-1] Widget');
        const tmpl = p.product_tmpl_id[0];
        await admin.call('product.template', 'write', { ids: [tmpl], kwargs: { vals: { name: 'Widget II' } } });
        assert.equal((await read<{ name: string }>('product.product', pid, ['name'])).name, 'Widget II');
        const t2 = await create(admin, 'product.template', { name: 'Gadget', default_code: 'G-1', ...storable });
        const t2r = await read<{ product_variant_ids: number[]; default_code: string }>('product.template', t2, ['product_variant_ids', 'default_code']);
        assert.equal(t2r.product_variant_ids.length, 1);
        assert.equal(t2r.default_code, 'G-1');

        const bolt = sim.state.ref('plant.product_bolt_m8');
        const wc = sim.state.ref('plant.wc_cnc');
        const bom = await create(admin, 'mrp.bom', {
          product_tmpl_id: tmpl,
          product_qty: 1,
          bom_line_ids: [[0, 0, { product_id: bolt, product_qty: 2 }]],
          // time_cycle is computed in Odoo: a value written to it is ignored (real 19 keeps the default 60).
          operation_ids: [[0, 0, { name: 'Drill', workcenter_id: wc, time_cycle: 10 }]],
        });
        const b = await read<{ display_name: string; product_id: unknown; operation_ids: number[] }>('mrp.bom', bom, [
          'display_name',
          'product_id',
          'operation_ids',
        ]);
        assert.equal(b.display_name, '[W-1] Widget II');
        assert.equal(b.product_id, false);
        const op = await read<{ time_cycle: number; time_cycle_manual: number }>('mrp.routing.workcenter', b.operation_ids[0]!, [
          'time_cycle',
          'time_cycle_manual',
        ]);
        assert.deepEqual([op.time_cycle_manual, op.time_cycle], [60, 60]);
        const mo = await create(admin, 'mrp.production', { product_id: pid, product_qty: 3 });
        assert.equal(m2o((await read<{ bom_id: unknown }>('mrp.production', mo, ['bom_id'])).bom_id), bom);
        const fields = await admin.call<Record<string, { required: boolean }>>('mrp.bom', 'fields_get', {
          kwargs: { allfields: ['product_tmpl_id', 'product_id'], attributes: ['required'] },
        });
        assert.deepEqual([fields.product_tmpl_id?.required, fields.product_id?.required], [true, false]);
      });
    });

    it('locations: the full name follows the parent, the warehouse comes from its view location', async () => {
      await asAdmin(async (admin) => {
        const stock = sim.state.ref('stock.stock_location_stock');
        const wh = sim.state.ref('stock.warehouse0');
        const rack = await create(admin, 'stock.location', { name: 'Rack', location_id: stock, usage: 'internal' });
        const bin = await create(admin, 'stock.location', { name: 'Bin 1', location_id: rack, usage: 'internal' });
        const r = await read<{ complete_name: string; warehouse_id: unknown }>('stock.location', bin, ['complete_name', 'warehouse_id']);
        assert.equal(r.complete_name, 'WH/Stock/Rack/Bin 1');
        assert.equal(m2o(r.warehouse_id), wh);
        await admin.call('stock.location', 'write', { ids: [rack], kwargs: { vals: { name: 'Rack A' } } });
        assert.equal((await read<{ complete_name: string }>('stock.location', bin, ['complete_name'])).complete_name, 'WH/Stock/Rack A/Bin 1');
        // A full name given on create is not kept (computed field), nor is a warehouse.
        const loose = await create(admin, 'stock.location', { name: 'Loose', complete_name: 'WH/Stock/Loose', usage: 'internal', warehouse_id: wh });
        const l = await read<{ complete_name: string; warehouse_id: unknown }>('stock.location', loose, ['complete_name', 'warehouse_id']);
        assert.deepEqual([l.complete_name, l.warehouse_id], ['Loose', false]);
        // Written later, it is kept (real 19), until the name changes.
        await admin.call('stock.location', 'write', { ids: [loose], kwargs: { vals: { complete_name: 'Written/Name' } } });
        assert.equal((await read<{ complete_name: string }>('stock.location', loose, ['complete_name'])).complete_name, 'Written/Name');
        await admin.call('stock.location', 'write', { ids: [loose], kwargs: { vals: { name: 'Loose 2' } } });
        assert.equal((await read<{ complete_name: string }>('stock.location', loose, ['complete_name'])).complete_name, 'Loose 2');
        const vendors = await read<{ complete_name: string }>('stock.location', sim.state.ref('stock.stock_location_suppliers'), ['complete_name']);
        assert.equal(vendors.complete_name, version >= 19 ? 'Vendors' : 'Partners/Vendors');
        const internal = await read<{ int_type_id: unknown }>('stock.warehouse', wh, ['int_type_id']);
        assert.equal(m2o(internal.int_type_id), sim.state.ref('stock.picking_type_internal'));
      });
    });

    it('inventory count: the adjustment is named from the context; 19 dates it, 17/18 take no date', async () => {
      const seal = sim.state.ref('plant.product_seal_kit');
      const [quant] = sim.state.records('stock.quant', [['product_id', '=', seal]]);
      await odoo.call('stock.quant', 'write', { ids: [quant!.id], kwargs: { vals: { inventory_quantity: 150 } } });
      const date = '2026-01-02 03:04:05';
      const context = { inventory_mode: true, inventory_name: 'Count 42' };
      const nameField = version >= 19 ? 'reference' : 'name';
      if (version >= 19) {
        await odoo.call('stock.quant', 'action_apply_inventory', { ids: [quant!.id], kwargs: { date }, context });
      } else {
        const err = await rejection(odoo.call('stock.quant', 'action_apply_inventory', { ids: [quant!.id], kwargs: { date }, context }));
        assert.ok(err instanceof OdooError && err.odooName === 'builtins.TypeError');
        await odoo.call('stock.quant', 'action_apply_inventory', { ids: [quant!.id], context });
      }
      const moves = await odoo.call<Array<Record<string, unknown>>>('stock.move', 'search_read', {
        kwargs: {
          domain: [
            ['product_id', '=', seal],
            ['is_inventory', '=', true],
            [nameField, '=', 'Count 42'],
          ],
          fields: ['state', 'date', 'product_uom_qty'],
        },
      });
      assert.equal(moves.length, 1);
      assert.equal(moves[0]!.state, 'done');
      if (version >= 19) assert.equal(moves[0]!.date, date);
      assert.equal(sim.state.get('stock.quant', quant!.id)?.quantity, 150);
    });

    it('installed modules are readable; ir.model.data and users are for administrators', async () => {
      const mods = await odoo.call<Array<{ name: string }>>('ir.module.module', 'search_read', {
        kwargs: { domain: [['state', '=', 'installed']], fields: ['name'] },
      });
      const names = mods.map((m) => m.name);
      assert.ok(names.includes('mrp') && names.includes('maintenance'));
      assert.ok(!names.includes('quality_control') && !names.includes('quality_control_oca'));
      const err = await rejection(odoo.call('ir.model.data', 'search_read', { kwargs: { domain: [['module', '=', 'plant']], fields: ['name'] } }));
      assert.ok(err instanceof OdooError && err.odooName === 'odoo.exceptions.AccessError');
      const write = await rejection(odoo.call('res.users', 'write', { ids: [sim.uid], kwargs: { vals: { name: 'x' } } }));
      assert.ok(write instanceof OdooError && write.odooName === 'odoo.exceptions.AccessError');
      const admin = createOdooClient(simConfig(sim, { apiKey: sim.adminApiKey, username: 'admin' }), silentLogger);
      try {
        const rows = await admin.call<unknown[]>('ir.model.data', 'search_read', { kwargs: { domain: [['module', '=', 'plant']], fields: ['name'] } });
        assert.ok(rows.length > 10);
      } finally {
        await admin.close();
      }
    });
  });
}

describe('simulator options', () => {
  it('Odoo 18 refuses a chatter post from a user without an email', async () => {
    const sim = await startOdooSim({ version: 18, botEmail: false });
    const odoo = createOdooClient(simConfig(sim), silentLogger);
    try {
      const err = await rejection(odoo.call('maintenance.request', 'create', { kwargs: { vals_list: [{ name: 'x' }] } }));
      assert.ok(err instanceof OdooError && err.action === 'park');
    } finally {
      await odoo.close();
      await sim.close();
    }
  });

  it('quality modules can be installed', async () => {
    const sim = await startOdooSim({ modules: ['quality_control'] });
    const odoo = createOdooClient(simConfig(sim), silentLogger);
    try {
      const [id] = await odoo.call<number[]>('quality.check', 'create', { kwargs: { vals_list: [{ product_id: sim.state.ref('plant.product_gear_pump') }] } });
      assert.equal(await odoo.call('quality.check', 'do_pass', { ids: [id!] }), undefined, 'do_pass returns None');
      assert.equal(sim.state.get('quality.check', id!)?.quality_state, 'pass');
      assert.equal(sim.state.get('quality.check', id!)?.user_id, sim.uid);
      const err = await rejection(odoo.call('qc.inspection', 'search_count', { kwargs: { domain: [] } }));
      assert.ok(err instanceof OdooError && err.status === 404);
      // ir.model lists the installed models, for administrators only (as real 19 answers a stock/MRP user).
      const denied = await rejection(odoo.call('ir.model', 'search_count', { kwargs: { domain: [] } }));
      assert.ok(denied instanceof OdooError && denied.odooName === 'odoo.exceptions.AccessError');
      const models = (m: string) => sim.state.count('ir.model', [['model', '=', m]]);
      assert.equal(models('quality.point'), 1);
      assert.equal(models('qc.test'), 0);
      sim.state.setModule('quality_control_oca', true);
      assert.equal(models('qc.test'), 1);
      sim.state.setModule('quality_control_oca', false);
      assert.equal(models('qc.test'), 0);
    } finally {
      await odoo.close();
      await sim.close();
    }
  });

  for (const version of [17, 18, 19] as const) {
    it(`Enterprise quality on ${version}: a point has a team and a test type; a check needs its team (17/18) or takes the point's (19)`, async () => {
      const sim = await startOdooSim({ version, modules: ['quality_control'] });
      const odoo = createOdooClient(simConfig(sim), silentLogger);
      try {
        const pump = sim.state.ref('plant.product_gear_pump');
        const pointId = sim.state.create('quality.point', { title: 'Diameter', product_ids: [[6, 0, [pump]]] });
        const point = sim.state.get('quality.point', pointId)!;
        assert.equal(point.team_id, sim.state.ref('quality.quality_alert_team0'));
        assert.equal(point.test_type_id, sim.state.ref('quality_control.test_type_passfail'));
        assert.match(String(point.name), /^QCP\d{5}$/);
        const fields = ['id', 'point_id/.id', 'product_id/.id', 'measure'];
        const load = await odoo.call<LoadResult>('quality.check', 'load', {
          kwargs: { fields, data: [['edge_q.check_1', String(pointId), String(pump), '10.2']] },
        });
        if (version >= 19) {
          assert.deepEqual(load.messages, []);
          const check = sim.state.get('quality.check', (load.ids as number[])[0]!)!;
          assert.deepEqual([check.team_id, check.test_type_id, check.title, check.quality_state], [point.team_id, point.test_type_id, 'Diameter', 'none']);
        } else {
          // Real 17/18: team_id is required and nothing fills it in (quality/models/quality.py).
          assert.equal(load.ids, false);
          assert.equal(load.messages[0]?.field, 'team_id');
          const ok = await odoo.call<LoadResult>('quality.check', 'load', {
            kwargs: { fields: [...fields, 'team_id/.id'], data: [['edge_q.check_1', String(pointId), String(pump), '10.2', String(point.team_id)]] },
          });
          assert.deepEqual(ok.messages, []);
          assert.equal(
            sim.state.get('quality.check', (ok.ids as number[])[0]!)?.test_type_id,
            point.test_type_id,
            'create copies the test type from the point',
          );
        }
        const checkFields = await odoo.call<Record<string, unknown>>('quality.check', 'fields_get', { kwargs: { attributes: ['type'] } });
        assert.equal('lot_ids' in checkFields, version >= 19);
        assert.equal('lot_id' in checkFields, version < 19);
      } finally {
        await odoo.close();
        await sim.close();
      }
    });
  }

  it('OCA quality: an inspection needs its test; the result follows its lines; references are checked', async () => {
    const sim = await startOdooSim({ modules: ['quality_control_oca'] });
    const odoo = createOdooClient(simConfig(sim), silentLogger);
    try {
      const testId = sim.state.create('qc.test', { name: 'Leak test' });
      const [bare] = await odoo.call<number[]>('qc.inspection', 'create', { kwargs: { vals_list: [{ qty: 1 }] } });
      assert.match(String(sim.state.get('qc.inspection', bare!)?.name), /^QC-\d{6}$/);
      const noTest = await rejection(odoo.call('qc.inspection', 'action_todo', { ids: [bare!] }));
      assert.ok(noTest instanceof OdooError && noTest.odooName === 'odoo.exceptions.UserError');

      const load = await odoo.call<LoadResult>('qc.inspection', 'load', {
        kwargs: { fields: ['id', 'test/.id', 'qty', 'internal_notes'], data: [['edge_q.insp_1', String(testId), '1', 'ok']] },
      });
      const id = (load.ids as number[])[0]!;
      const pump = sim.state.ref('plant.product_gear_pump');
      await odoo.call('qc.inspection', 'write', { ids: [id], kwargs: { vals: { object_id: `product.product,${pump}` } } });
      assert.equal(
        (await odoo.call<Array<{ product_id: unknown }>>('qc.inspection', 'read', { ids: [id], kwargs: { fields: ['product_id'] } }))[0]!.product_id instanceof
          Array,
        true,
      );
      const mo = sim.state.ref('plant.mo_pump_1');
      const wrong = await rejection(odoo.call('qc.inspection', 'write', { ids: [id], kwargs: { vals: { object_id: `mrp.production,${mo}` } } }));
      assert.ok(wrong instanceof OdooError && wrong.odooName === 'builtins.ValueError', 'the base module lets an inspection point at products only');
      assert.equal(await odoo.call('qc.inspection', 'action_todo', { ids: [id] }), undefined);
      await odoo.call('qc.inspection', 'action_confirm', { ids: [id] });
      assert.equal(sim.state.get('qc.inspection', id)?.state, 'success', 'no lines: success');
      const unlink = await rejection(odoo.call('qc.inspection', 'unlink', { ids: [id] }));
      assert.ok(unlink instanceof OdooError && unlink.odooName === 'odoo.exceptions.UserError');

      const kg = sim.state.ref('uom.product_uom_kgm');
      const [measured] = await odoo.call<number[]>('qc.inspection', 'create', {
        kwargs: {
          vals_list: [
            {
              test: testId,
              inspection_lines: [[0, 0, { name: 'Weight', question_type: 'quantitative', min_value: 1, max_value: 2, quantitative_value: 3, uom_id: kg }]],
            },
          ],
        },
      });
      await odoo.call('qc.inspection', 'action_todo', { ids: [measured!] });
      await odoo.call('qc.inspection', 'action_confirm', { ids: [measured!] });
      assert.equal(sim.state.get('qc.inspection', measured!)?.state, 'waiting');
      await odoo.call('qc.inspection', 'action_approve', { ids: [measured!] });
      assert.equal(sim.state.get('qc.inspection', measured!)?.state, 'failed');
    } finally {
      await odoo.close();
      await sim.close();
    }
  });
});
