import type { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import type { MasterDataKind } from '../../agent/sync/edge-check';

/** The kinds a full pull brings. */
export const ALL_KINDS: readonly MasterDataKind[] = ['product', 'lot', 'production', 'workorder', 'workcenter', 'loss', 'location', 'uom', 'equipment'];

/**
 * A small plant's master data as a pull leaves it in the outbox file: products
 * (one lot-tracked, one serial-tracked), open and draft orders with their work
 * orders, two work centers, loss reasons, locations, units and equipment.
 */
export function fillMasterData(
  outbox: SqliteOutbox,
  opts: { kinds?: readonly MasterDataKind[]; extra?: Array<{ kind: string; key: string; value: unknown }> } = {},
): void {
  const rows: Array<{ kind: string; key: string; value: unknown }> = [
    { kind: 'product', key: '1', value: { id: 1, name: 'Steel Bar', defaultCode: 'RM-STEEL', barcode: '4006381333955', tracking: 'lot' } },
    { kind: 'product', key: '2', value: { id: 2, name: 'Seal Kit', defaultCode: 'RM-SEAL', tracking: 'none' } },
    { kind: 'product', key: '3', value: { id: 3, name: 'Gearbox', defaultCode: 'FG-GEAR', tracking: 'serial' } },
    { kind: 'lot', key: '11', value: { id: 11, name: 'LOT-A', productId: 1 } },
    { kind: 'production', key: '21', value: { id: 21, name: 'WH/MO/00001', state: 'confirmed', productId: 3 } },
    { kind: 'production', key: '22', value: { id: 22, name: 'WH/MO/00002', state: 'draft', productId: 3 } },
    { kind: 'production', key: '23', value: { id: 23, name: 'WH/MO/00003', state: 'progress', productId: 3 } },
    { kind: 'workorder', key: '31', value: { id: 31, name: 'Assembly', state: 'ready', productionId: 21, workcenterId: 41 } },
    { kind: 'workorder', key: '32', value: { id: 32, name: 'Testing', state: 'cancel', productionId: 21, workcenterId: 42 } },
    { kind: 'workorder', key: '33', value: { id: 33, name: 'Assembly', state: 'ready', productionId: 23, workcenterId: 41 } },
    { kind: 'workorder', key: '34', value: { id: 34, name: 'Assembly', state: 'ready', productionId: 23, workcenterId: 42 } },
    { kind: 'workcenter', key: '41', value: { id: 41, name: 'Assembly Line 1', code: 'ASM1' } },
    { kind: 'workcenter', key: '42', value: { id: 42, name: 'Test Bench', code: 'TST1' } },
    { kind: 'loss', key: '51', value: { id: 51, name: 'Material Availability' } },
    { kind: 'location', key: '61', value: { id: 61, name: 'WH/Stock', code: 'WH-STOCK' } },
    { kind: 'location', key: '62', value: { id: 62, name: 'WH/Stock/Shelf 1' } },
    { kind: 'uom', key: '71', value: { id: 71, name: 'Units' } },
    { kind: 'uom', key: '72', value: { id: 72, name: 'kg' } },
    { kind: 'equipment', key: '81', value: { id: 81, name: 'Press 1', code: 'PR-001' } },
    ...(opts.extra ?? []),
  ];
  const kinds = opts.kinds ?? ALL_KINDS;
  outbox.masterData.replace(
    rows.filter((r) => kinds.includes(r.kind as MasterDataKind)),
    kinds,
    Date.now(),
  );
}
