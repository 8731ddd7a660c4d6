/**
 * Base data every database has (users, units, modules, locations, operation
 * types, loss reasons, maintenance stages) and, with `seed`, a small demo
 * plant: products with codes and barcodes, lots, stock, three work centers,
 * equipment, bills of materials and confirmed manufacturing orders with work
 * orders. Demo records carry external ids in module `plant` (plant.wc_assembly).
 */
import { KNOWN_MODULES } from './models';
import { callMethod, type Env } from './orm';

export interface SeedUsers {
  adminUid: number;
  botUid: number;
}

function xml(env: Env, name: string, model: string, id: number): number {
  env.bindXmlid(`plant.${name}`, model, id);
  return id;
}

export function seedBase(env: Env, opts: { login: string; botEmail: string | false; botTz: string }): SeedUsers {
  const company = env.create('res.company', { name: 'My Company' });
  env.bindXmlid('base.main_company', 'res.company', company);
  const member = { company_id: company, company_ids: [company] };
  env.create('res.users', { name: 'OdooBot', login: '__system__', active: false, ...member });
  const adminUid = env.create('res.users', { name: 'Mitchell Admin', login: 'admin', email: 'admin@example.com', tz: 'Europe/Brussels', ...member });
  const botUid = env.create('res.users', { name: 'Edge Agent', login: opts.login, email: opts.botEmail, tz: opts.botTz, ...member });
  for (const [name, shortdesc] of KNOWN_MODULES) {
    const id = env.create('ir.module.module', { name, shortdesc, state: env.db.installed.has(name) ? 'installed' : 'uninstalled' });
    env.bindXmlid(`base.module_${name}`, 'ir.module.module', id);
  }
  seedUnits(env);

  // Odoo 17/18 file partner and virtual locations under views; 19 keeps them at the top.
  const loc = (name: string, usage: string, xmlid: string | undefined, parent: number | false, extra: Record<string, unknown> = {}) => {
    const id = env.create('stock.location', { name, usage, location_id: parent, ...extra });
    if (xmlid) env.bindXmlid(xmlid, 'stock.location', id);
    return id;
  };
  const old = env.version < 19;
  const physical = old ? loc('Physical Locations', 'view', 'stock.stock_location_locations', false) : false;
  const partners = old ? loc('Partners', 'view', 'stock.stock_location_locations_partner', false) : false;
  const virtual = old ? loc('Virtual Locations', 'view', 'stock.stock_location_locations_virtual', false) : false;
  const vendors = loc('Vendors', 'supplier', 'stock.stock_location_suppliers', partners);
  const customers = loc('Customers', 'customer', 'stock.stock_location_customers', partners);
  const view = loc('WH', 'view', 'stock.warehouse0_view', physical);
  const stock = loc('Stock', 'internal', 'stock.stock_location_stock', view, { barcode: 'WH-STOCK' });
  const wh = env.create('stock.warehouse', { name: 'Main Warehouse', code: 'WH', view_location_id: view, lot_stock_id: stock });
  env.bindXmlid('stock.warehouse0', 'stock.warehouse', wh);
  loc('Production', 'production', 'stock.location_production', virtual);
  loc('Inventory adjustment', 'inventory', 'stock.location_inventory', virtual);
  loc('Scrap', 'inventory', 'stock.stock_location_scrapped', virtual, old ? { scrap_location: true } : {});

  const ptype = (name: string, code: string, seq: string, src: number, dest: number, xmlid: string) => {
    const id = env.create('stock.picking.type', {
      name,
      code,
      sequence_code: seq,
      default_location_src_id: src,
      default_location_dest_id: dest,
      warehouse_id: wh,
    });
    env.bindXmlid(xmlid, 'stock.picking.type', id);
    return id;
  };
  env.set('stock.warehouse', wh, {
    in_type_id: ptype('Receipts', 'incoming', 'IN', vendors, stock, 'stock.picking_type_in'),
    out_type_id: ptype('Delivery Orders', 'outgoing', 'OUT', stock, customers, 'stock.picking_type_out'),
    int_type_id: ptype('Internal Transfers', 'internal', 'INT', stock, stock, 'stock.picking_type_internal'),
  });
  if (env.db.installed.has('mrp')) {
    env.set('stock.warehouse', wh, { manu_type_id: ptype('Manufacturing', 'mrp_operation', 'MO', stock, stock, 'mrp.picking_type_manufacturing') });
    // Names, categories and external ids as in Odoo's mrp data.
    const losses: Array<[string, string, string, boolean]> = [
      ['Material Availability', 'availability', 'block_reason0', true],
      ['Equipment Failure', 'availability', 'block_reason1', true],
      ['Setup and Adjustments', 'availability', 'block_reason2', true],
      ['Reduced Speed', 'performance', 'block_reason4', false],
      ['Process Defect', 'quality', 'block_reason5', true],
      ['Reduced Yield', 'quality', 'block_reason6', true],
      ['Fully Productive Time', 'productive', 'block_reason7', false],
    ];
    losses.forEach(([name, lossType, xmlid, manual], i) =>
      env.bindXmlid(
        `mrp.${xmlid}`,
        'mrp.workcenter.productivity.loss',
        env.create('mrp.workcenter.productivity.loss', { name, loss_type: lossType, manual, sequence: lossType === 'productive' ? 0 : i + 1 }),
      ),
    );
  }
  if (env.db.installed.has('maintenance')) {
    const stages: Array<[string, boolean, string]> = [
      ['New Request', false, 'stage_0'],
      ['In Progress', false, 'stage_1'],
      ['Repaired', true, 'stage_3'],
      ['Scrap', true, 'stage_4'],
    ];
    stages.forEach(([name, done, xmlid], i) =>
      env.bindXmlid(`maintenance.${xmlid}`, 'maintenance.stage', env.create('maintenance.stage', { name, done, sequence: i + 1 })),
    );
  }
  for (const name of env.db.installed) seedModule(env, name);
  return { adminUid, botUid };
}

/** Data a module brings when it is installed (once; installing again keeps what is there). */
export function seedModule(env: Env, name: string): void {
  // ir.model: a row per model the module defines.
  for (const def of env.db.models.values()) {
    if (def.module !== name || env.db.all('ir.model').some((m) => m.model === def.name)) continue;
    env.bindXmlid(
      `${name}.model_${def.name.replace(/\./g, '_')}`,
      'ir.model',
      env.create('ir.model', { name: def.description, model: def.name, modules: name }),
    );
  }
  if (name === 'quality_control' && !env.xmlidTarget('quality.quality_alert_team0')) {
    env.bindXmlid('quality.quality_alert_team0', 'quality.alert.team', env.create('quality.alert.team', { name: 'Main Quality Team' }));
    const types: Array<[string, string, string]> = [
      ['Instructions', 'instructions', 'quality.test_type_instructions'],
      ['Take a Picture', 'picture', 'quality_control.test_type_picture'],
      ['Pass - Fail', 'passfail', 'quality_control.test_type_passfail'],
      ['Measure', 'measure', 'quality_control.test_type_measure'],
    ];
    for (const [label, technical, xmlid] of types)
      env.bindXmlid(xmlid, 'quality.point.test_type', env.create('quality.point.test_type', { name: label, technical_name: technical }));
  }
  if (name === 'quality_control_oca' && !env.xmlidTarget('quality_control_oca.qc_test_template_category_generic')) {
    env.bindXmlid('quality_control_oca.qc_test_template_category_generic', 'qc.test.category', env.create('qc.test.category', { name: 'Generic' }));
    env.bindXmlid('quality_control_oca.qc_test_template_category_referenced', 'qc.test.category', env.create('qc.test.category', { name: 'Referenced' }));
  }
}

/**
 * Units, Dozens, kg, g and Hours as each version defines them: categories and
 * ratios to the category's reference (17/18), or chains of units defined from
 * one another (19, where g is the root and kg is 1000 g).
 */
function seedUnits(env: Env): void {
  const bind = (name: string, id: number) => env.bindXmlid(`uom.${name}`, 'uom.uom', id);
  if (env.version >= 19) {
    const units = env.create('uom.uom', { name: 'Units' });
    bind('product_uom_unit', units);
    bind('product_uom_dozen', env.create('uom.uom', { name: 'Dozens', relative_factor: 12, relative_uom_id: units }));
    const g = env.create('uom.uom', { name: 'g' });
    bind('product_uom_gram', g);
    bind('product_uom_kgm', env.create('uom.uom', { name: 'kg', relative_factor: 1000, relative_uom_id: g }));
    bind('product_uom_hour', env.create('uom.uom', { name: 'Hours' }));
    return;
  }
  const category = (name: string, xmlid: string) => {
    const id = env.create('uom.category', { name });
    env.bindXmlid(`uom.${xmlid}`, 'uom.category', id);
    return id;
  };
  const unit = category('Unit', 'product_uom_categ_unit');
  const weight = category('Weight', 'product_uom_categ_kgm');
  const time = category('Working Time', 'uom_categ_wtime');
  bind('product_uom_unit', env.create('uom.uom', { name: 'Units', category_id: unit, rounding: 1 }));
  bind('product_uom_dozen', env.create('uom.uom', { name: 'Dozens', category_id: unit, factor: 1 / 12, uom_type: 'bigger', rounding: 1 }));
  bind('product_uom_kgm', env.create('uom.uom', { name: 'kg', category_id: weight, rounding: 0.001 }));
  bind('product_uom_gram', env.create('uom.uom', { name: 'g', category_id: weight, factor: 1000, uom_type: 'smaller', rounding: 0.01 }));
  bind('product_uom_hour', env.create('uom.uom', { name: 'Hours', category_id: time, factor: 8, uom_type: 'smaller' }));
}

export function seedPlant(env: Env): void {
  const v = env.version;
  const units = env.xmlidTarget('uom.product_uom_unit')!.resId;
  const kg = env.xmlidTarget('uom.product_uom_kgm')!.resId;
  const stock = env.xmlidTarget('stock.stock_location_stock')!.resId;
  const storable = v >= 18 ? { type: 'consu', is_storable: true } : { detailed_type: 'product' };
  const product = (xmlid: string, name: string, code: string, barcode: string, tracking: string, uom: number) =>
    xml(env, xmlid, 'product.product', env.create('product.product', { name, default_code: code, barcode, tracking, uom_id: uom, ...storable }));

  const pump = product('product_gear_pump', 'Gear Pump GP-100', 'FG-100', '4006381333931', 'lot', units);
  const valve = product('product_valve_block', 'Valve Block VB-200', 'FG-200', '4006381333948', 'none', units);
  const steel = product('product_steel_bar', 'Steel Bar 40 mm', 'RM-STEEL', '4006381333955', 'lot', kg);
  const seal = product('product_seal_kit', 'Seal Kit', 'RM-SEAL', '4006381333962', 'none', units);
  const bolt = product('product_bolt_m8', 'Bolt M8x30', 'RM-BOLT', '4006381333979', 'none', units);
  const housing = product('product_valve_housing', 'Valve Housing', 'RM-HOUSING', '4006381333986', 'none', units);

  const line1 = xml(
    env,
    'location_line1',
    'stock.location',
    env.create('stock.location', { name: 'Line 1', location_id: stock, usage: 'internal', barcode: 'LINE-1' }),
  );

  const lot = (xmlid: string, name: string, productId: number) => xml(env, xmlid, 'stock.lot', env.create('stock.lot', { name, product_id: productId }));
  const st1 = lot('lot_steel_0001', 'ST-2025-0001', steel);
  const st2 = lot('lot_steel_0002', 'ST-2025-0002', steel);
  lot('lot_pump_0001', 'GP-2025-0001', pump);

  const quant = (productId: number, locationId: number, qty: number, lotId: number | false = false) =>
    env.create('stock.quant', { product_id: productId, location_id: locationId, lot_id: lotId, quantity: qty });
  quant(steel, stock, 500, st1);
  quant(steel, stock, 300, st2);
  quant(seal, stock, 200);
  quant(bolt, stock, 5000);
  quant(housing, stock, 120);
  quant(bolt, line1, 400);

  const wc = (xmlid: string, name: string, code: string) => xml(env, xmlid, 'mrp.workcenter', env.create('mrp.workcenter', { name, code, costs_hour: 60 }));
  const cnc = wc('wc_cnc', 'CNC Machining', 'CNC1');
  const asm = wc('wc_assembly', 'Assembly Line 1', 'ASM1');
  const test = wc('wc_test', 'Test Bench', 'TEST1');

  if (env.db.installed.has('maintenance')) {
    const eq = (xmlid: string, name: string, serial: string, workcenter: number, where: string) =>
      xml(env, xmlid, 'maintenance.equipment', env.create('maintenance.equipment', { name, serial_no: serial, workcenter_id: workcenter, location: where }));
    eq('equipment_cnc_mill', 'CNC Mill M-200', 'CNC-0042', cnc, 'Hall A');
    eq('equipment_press', 'Assembly Press P-10', 'PR-0107', asm, 'Hall A');
    eq('equipment_leak_tester', 'Leak Tester LT-3', 'LT-0003', test, 'Hall B');
  }

  const bom = (xmlid: string, productId: number, lines: Array<[number, number]>, ops: Array<[string, number, number]>) => {
    const tmpl = env.browse('product.product', productId).product_tmpl_id;
    const id = xml(env, xmlid, 'mrp.bom', env.create('mrp.bom', { product_tmpl_id: tmpl, product_qty: 1 }));
    for (const [p, q] of lines) env.create('mrp.bom.line', { bom_id: id, product_id: p, product_qty: q });
    ops.forEach(([name, w, minutes], i) =>
      env.create('mrp.routing.workcenter', { bom_id: id, name, workcenter_id: w, time_cycle_manual: minutes, sequence: (i + 1) * 10 }),
    );
    return id;
  };
  const pumpBom = bom(
    'bom_gear_pump',
    pump,
    [
      [steel, 2],
      [seal, 1],
      [bolt, 8],
    ],
    [
      ['Machining', cnc, 30],
      ['Assembly', asm, 20],
      ['Leak test', test, 10],
    ],
  );
  const valveBom = bom(
    'bom_valve_block',
    valve,
    [
      [housing, 1],
      [bolt, 4],
    ],
    [['Assembly', asm, 5]],
  );

  const mo = (xmlid: string, productId: number, bomId: number, qty: number, origin: string) => {
    const id = xml(env, xmlid, 'mrp.production', env.create('mrp.production', { product_id: productId, bom_id: bomId, product_qty: qty, origin }));
    callMethod(env, 'mrp.production', 'action_confirm', [id], {});
    return id;
  };
  mo('mo_pump_1', pump, pumpBom, 10, 'SO/2025/0042');
  mo('mo_valve_1', valve, valveBom, 50, 'SO/2025/0043');
  mo('mo_pump_2', pump, pumpBom, 5, 'SO/2025/0044');
}
