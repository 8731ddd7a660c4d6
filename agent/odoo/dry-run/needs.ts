import type { EventType } from '../../model/event';
import type { EventVariant, ReferenceKind } from './references';

/**
 * What each event type needs in Odoo (pure tables): the app, the access
 * rights on each model its operation reads or writes, and the groups Odoo
 * checks in code rather than in its access rules. Kept beside the operations
 * by a test that compares these models with each operation's `models()`.
 */

export type Right = 'read' | 'create' | 'write' | 'unlink';

export interface ModelNeed {
  model: string;
  rights: readonly Right[];
}

export interface GroupNeed {
  /** External id of the group (`stock.group_stock_manager`). */
  group: string;
  /** As Odoo's user form shows it. */
  label: string;
  why: string;
}

export interface Needs {
  /** Module that must be installed. */
  app: string;
  models: ModelNeed[];
  groups: GroupNeed[];
}

/** The quality app Odoo has: Enterprise `quality_control` or the OCA's `quality_control_oca`. */
export type QualityApp = 'quality_control' | 'quality_control_oca';

const R: Right[] = ['read'];
const RW: Right[] = ['read', 'write'];
const RC: Right[] = ['read', 'create'];
const RCW: Right[] = ['read', 'create', 'write'];
/** Consumption replaces Odoo's own component lines with the plant's: it deletes lines. */
const RCWU: Right[] = ['read', 'create', 'write', 'unlink'];
const RWU: Right[] = ['read', 'write', 'unlink'];

const m = (model: string, rights: readonly Right[]): ModelNeed => ({ model, rights });

const STOCK_MANAGER_17: GroupNeed = {
  group: 'stock.group_stock_manager',
  label: 'Inventory / Administrator',
  why: 'Odoo 17 lets only a stock manager apply an inventory count',
};

/** Rights, app and groups of one event type (and kind) on one Odoo version. */
export function needsOf(type: EventType, variant: EventVariant | undefined, major: number, quality?: QualityApp): Needs {
  switch (type) {
    case 'production.reported':
      return {
        app: 'mrp',
        models: [m('mrp.production', RW), m('stock.lot', RC), m('stock.move', RW), m('stock.move.line', RCW)],
        groups: [],
      };
    case 'production.completed':
      return { app: 'mrp', models: [m('mrp.production', RW), m('stock.move', RW), m('stock.move.line', RWU), m('product.product', R)], groups: [] };
    case 'material.consumed':
      return {
        app: 'mrp',
        models: [
          m('mrp.production', R),
          m('stock.move', RW),
          m('stock.move.line', RCWU),
          m('stock.lot', R),
          m('stock.picking.type', R),
          m('product.product', R),
          m('uom.uom', R),
          m('stock.location', R),
        ],
        groups: [],
      };
    case 'inventory.moved':
      if (variant === 'count') {
        return {
          app: 'stock',
          models: [m('stock.quant', RCW), m('stock.move', RW), m('stock.move.line', R), m('stock.location', R), m('product.product', R), m('stock.lot', R)],
          groups: major < 18 ? [STOCK_MANAGER_17] : [],
        };
      }
      return {
        app: 'stock',
        models: [
          m('stock.picking', RCW),
          m('stock.move', RCW),
          m('stock.move.line', RCW),
          m('stock.location', R),
          m('stock.warehouse', R),
          m('stock.picking.type', R),
          m('product.product', R),
          m('stock.lot', R),
          m('uom.uom', R),
        ],
        groups: [],
      };
    case 'scrap.reported':
      return {
        app: 'stock',
        models: [m('stock.scrap', RCW), m('stock.move', RW), m('product.product', R), m('stock.lot', R), m('stock.location', R), m('uom.uom', R)],
        groups: [],
      };
    case 'downtime.started':
    case 'downtime.ended':
      return {
        app: 'mrp',
        models: [m('mrp.workcenter.productivity', RCW), m('mrp.workcenter', R), m('mrp.workcenter.productivity.loss', R)],
        groups: [],
      };
    case 'quality.recorded':
      if (quality === 'quality_control_oca') return { app: quality, models: [m('qc.inspection', RCW), m('qc.test', R)], groups: [] };
      return { app: 'quality_control', models: [m('quality.check', RCW), m('quality.point', R)], groups: [] };
    case 'maintenance.requested':
      return { app: 'maintenance', models: [m('maintenance.request', ['create']), m('maintenance.equipment', R)], groups: [] };
    case 'workorder.started':
    case 'workorder.finished':
      return {
        app: 'mrp',
        models: [m('mrp.workorder', RW), m('mrp.workcenter.productivity', RW), m('mrp.production', RW), m('mrp.workcenter', R)],
        groups: [],
      };
  }
}

/** The agent's pull job reads these every few minutes (agent/sync/master-data.ts). */
export const MASTER_DATA_NEEDS: Needs = {
  app: 'mrp',
  // maintenance.equipment too when maintenance is installed; without it, equipment is not checked at the edge.
  models: [
    m('product.product', R),
    m('stock.lot', R),
    m('mrp.production', R),
    m('mrp.workorder', R),
    m('mrp.workcenter', R),
    m('mrp.workcenter.productivity.loss', R),
    m('stock.location', R),
    m('uom.uom', R),
  ],
  groups: [],
};

/** How a name of each kind is found in Odoo: as the operations look it up (agent/sync/operations/lookup.ts). */
export interface LookupSpec {
  model: string;
  /** A name matches when any of these fields equals it. */
  fields: string[];
  /** What the plant calls it. */
  label: string;
  app: string;
}

export function lookupSpec(kind: ReferenceKind, quality?: QualityApp): LookupSpec {
  switch (kind) {
    case 'workcenter':
      return { model: 'mrp.workcenter', fields: ['name', 'code'], label: 'work center', app: 'mrp' };
    case 'loss':
      return { model: 'mrp.workcenter.productivity.loss', fields: ['name'], label: 'loss reason', app: 'mrp' };
    case 'product':
      return { model: 'product.product', fields: ['default_code', 'barcode'], label: 'product (internal reference or barcode)', app: 'product' };
    case 'lot':
      return { model: 'stock.lot', fields: ['name'], label: 'lot or serial number', app: 'stock' };
    case 'location':
      return { model: 'stock.location', fields: ['complete_name', 'barcode'], label: 'location', app: 'stock' };
    case 'equipment':
      return { model: 'maintenance.equipment', fields: ['name', 'serial_no'], label: 'equipment', app: 'maintenance' };
    case 'production':
      return { model: 'mrp.production', fields: ['name'], label: 'manufacturing order', app: 'mrp' };
    case 'uom':
      return { model: 'uom.uom', fields: ['name'], label: 'unit of measure', app: 'uom' };
    case 'operation':
      return { model: 'mrp.routing.workcenter', fields: ['name'], label: 'operation (of a bill of materials)', app: 'mrp' };
    case 'qualityTest':
      return quality === 'quality_control_oca'
        ? { model: 'qc.test', fields: ['name'], label: 'quality test', app: 'quality_control_oca' }
        : { model: 'quality.point', fields: ['title'], label: 'quality control point', app: 'quality_control' };
  }
}

/** Apps the report names, in the order it names them. */
export const APPS: ReadonlyArray<{ module: string; label: string }> = [
  { module: 'stock', label: 'Inventory' },
  { module: 'mrp', label: 'Manufacturing' },
  { module: 'maintenance', label: 'Maintenance' },
  { module: 'quality_control', label: 'Quality (Enterprise)' },
  { module: 'quality_control_oca', label: 'Quality Control (OCA)' },
];
