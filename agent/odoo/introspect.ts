import { OdooError, type OdooClient } from './types';

/**
 * Does Odoo have this model (is its module installed)? A plain user may not
 * read `ir.module.module` or `ir.model` (both are for administrators), so ask
 * the model itself: an unknown model is a 404 on JSON-2 and a UserError
 * "Object x doesn't exist" on JSON-RPC; an AccessError still means it exists.
 * Use it for optional modules: `quality.check` (Enterprise quality_control),
 * `qc.inspection` (OCA quality_control_oca), `maintenance.request`.
 */
export async function modelExists(client: OdooClient, model: string): Promise<boolean> {
  try {
    await client.call(model, 'search_count', { kwargs: { domain: [['id', '=', 0]] } });
    return true;
  } catch (err) {
    if (!(err instanceof OdooError)) throw err;
    if (err.status === 404 && err.odooName === 'werkzeug.exceptions.NotFound') return false;
    if (err.odooName === 'odoo.exceptions.UserError' && /Object \S+ doesn't exist/.test(err.message)) return false;
    if (err.odooName === 'odoo.exceptions.AccessError') return true;
    throw err;
  }
}
