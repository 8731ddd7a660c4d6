import type { EventOf } from '../../model/event';
import { lookupsFor, type OdooLookups } from './lookup';
import { externalId, keyedLoad, loadNumber, readOne, searchRead, writeValues } from './odoo-calls';
import { OperationError, type Operation, type OperationContext, type OperationOptions, type OperationOutcome } from './types';

type Quality = EventOf<'quality.recorded'>;

/** Odoo Enterprise's quality module and the community (OCA) one. */
export const QUALITY_MODULES = ['quality_control', 'quality_control_oca'] as const;

/**
 * quality.recorded: which quality app Odoo has is asked once per connection
 * (ir.module.module, state installed):
 *   quality_control (Enterprise): a quality.check keyed `<module>.quality_<event id>`
 *     on the quality point whose title is the test name, with product, lot,
 *     production and measure; then do_pass / do_fail while it is still to do.
 *   quality_control_oca (Community, OCA): a qc.inspection keyed the same way on
 *     the qc.test of that name, the result and measure in its notes; then
 *     action_todo and action_confirm (pass) or the failed state (fail), while
 *     it is still a draft.
 *   neither: parked ("no quality module installed ...").
 * Created once; the state change is guarded (a check already decided is
 * alreadyApplied). Neither app could be run on the test servers (Enterprise
 * and OCA are not on this machine): field names follow their 17/18 sources.
 */
export function qualityRecorded(opts: OperationOptions = {}): Operation<Quality> {
  return {
    type: 'quality.recorded',
    models: () => ['quality.check', 'qc.inspection'],
    async execute(event: Quality, ctx: OperationContext): Promise<OperationOutcome> {
      const look = lookupsFor(ctx.odoo, opts.lookupTtlMs);
      const installed = await look.installedModules(QUALITY_MODULES);
      if (installed.has('quality_control')) return enterpriseCheck(event, ctx, look);
      if (installed.has('quality_control_oca')) return ocaInspection(event, ctx, look);
      throw new OperationError('NO_QUALITY_MODULE', 'no quality module installed in Odoo (quality_control or quality_control_oca)');
    },
  };
}

async function references(event: Quality, look: OdooLookups) {
  const p = event.payload;
  const productId = p.product !== undefined ? (await look.product(p.product)).id : undefined;
  const productionId = p.production !== undefined ? await look.production(p.production) : undefined;
  let lotId: number | undefined;
  if (p.lot !== undefined) {
    if (productId === undefined) throw new OperationError('PRODUCT_REQUIRED', `quality result names lot "${p.lot}" but no product`);
    lotId = await look.lot(productId, p.lot);
    if (lotId === undefined) throw new OperationError('UNKNOWN_REFERENCE', `unknown lot "${p.lot}" of product "${p.product}" in Odoo`);
  }
  return { productId, productionId, lotId };
}

function summary(p: Quality['payload']): string {
  const parts = [`${p.test}: ${p.result}`];
  if (p.measure !== undefined) parts.push(`measure ${p.measure}`);
  if (p.note !== undefined) parts.push(p.note);
  return parts.join('; ');
}

async function enterpriseCheck(event: Quality, ctx: OperationContext, look: OdooLookups): Promise<OperationOutcome> {
  const p = event.payload;
  const points = await searchRead<{ id: number; team_id: [number, string] | false }>(ctx, 'quality.point', [['title', '=', p.test]], ['id', 'team_id'], {
    limit: 2,
  });
  if (points.length !== 1) {
    throw new OperationError(
      points.length ? 'AMBIGUOUS_REFERENCE' : 'UNKNOWN_REFERENCE',
      `${points.length ? 'ambiguous' : 'unknown'} quality control point "${p.test}" in Odoo (quality.point by title)`,
    );
  }
  const { productId, productionId, lotId } = await references(event, look);
  const fields = ['id', 'point_id/.id', 'note'];
  const row = [externalId(ctx.xmlidModule, 'quality', event.id), String(points[0]!.id), summary(p)];
  const add = (field: string, value: string | undefined) => {
    if (value === undefined) return;
    fields.push(field);
    row.push(value);
  };
  add('product_id/.id', productId?.toString());
  add('production_id/.id', productionId?.toString());
  // 17/18 require the check's team (nothing fills it in); the point has it.
  add('team_id/.id', points[0]!.team_id ? String(points[0]!.team_id[0]) : undefined);
  // 19 keeps the lots of a check in lot_ids.
  add(ctx.server.major >= 19 ? 'lot_ids/.id' : 'lot_id/.id', lotId?.toString());
  add('measure', p.measure === undefined ? undefined : loadNumber(p.measure));
  const [id] = await keyedLoad(ctx, 'quality.check', fields, [row], 'create');
  const odooIds = { 'quality.check': id! };
  const check = await readOne<{ quality_state: string }>(ctx, 'quality.check', id!, ['quality_state'], 'quality check');
  if (check.quality_state !== 'none') return { odooIds, alreadyApplied: true };
  await ctx.odoo.call('quality.check', p.result === 'pass' ? 'do_pass' : 'do_fail', { ids: [id!] });
  return { odooIds };
}

async function ocaInspection(event: Quality, ctx: OperationContext, look: OdooLookups): Promise<OperationOutcome> {
  const p = event.payload;
  const tests = await searchRead<{ id: number }>(ctx, 'qc.test', [['name', '=', p.test]], ['id'], { limit: 2 });
  if (tests.length !== 1) {
    throw new OperationError(
      tests.length ? 'AMBIGUOUS_REFERENCE' : 'UNKNOWN_REFERENCE',
      `${tests.length ? 'ambiguous' : 'unknown'} quality test "${p.test}" in Odoo (qc.test by name)`,
    );
  }
  const { productId, productionId } = await references(event, look);
  const [id] = await keyedLoad(
    ctx,
    'qc.inspection',
    ['id', 'test/.id', 'qty', 'internal_notes'],
    [[externalId(ctx.xmlidModule, 'quality', event.id), String(tests[0]!.id), '1', summary(p)]],
    'create',
  );
  const odooIds = { 'qc.inspection': id! };
  const insp = await readOne<{ state: string; object_id: unknown }>(ctx, 'qc.inspection', id!, ['state', 'object_id'], 'quality inspection');
  if (insp.state !== 'draft') return { odooIds, alreadyApplied: true };
  const object = productionId !== undefined ? `mrp.production,${productionId}` : productId !== undefined ? `product.product,${productId}` : undefined;
  if (object !== undefined && !insp.object_id) await writeValues(ctx, 'qc.inspection', [id!], { object_id: object });
  await ctx.odoo.call('qc.inspection', 'action_todo', { ids: [id!] });
  if (p.result === 'pass') await ctx.odoo.call('qc.inspection', 'action_confirm', { ids: [id!] });
  else await writeValues(ctx, 'qc.inspection', [id!], { state: 'failed' });
  return { odooIds };
}
