import type { EventType } from '../../model/event';
import { lookupSpec, MASTER_DATA_NEEDS, needsOf, type LookupSpec, type Needs, type QualityApp, type Right } from './needs';
import type { ConfigDemands, ConfigPath, EventUse, EventVariant } from './references';

/**
 * What to ask Odoo, once its version and apps are known (pure): the names to
 * look up per model, the models whose fields to read, the rights and groups
 * to ask about. Each question once, however many places in the config need it.
 */

/** Modules the dry run asks about: the apps, and the base modules the names live in. */
export const ASKED_MODULES = ['stock', 'mrp', 'maintenance', 'quality_control', 'quality_control_oca', 'product', 'uom'] as const;

/** One need of the config: a use of an event type (or the master data pull, or a mapping) with what it needs. */
export interface NeedAt {
  /** What needs it, in the report's words: `downtime.started`, `inventory.moved (inventory counts)`, `the master data pull`. */
  what: string;
  type?: EventType;
  variant?: EventVariant;
  needs: Needs;
  certain: boolean;
  path: ConfigPath;
}

export interface Questions {
  /** Per model: how names are matched and which names to look for. */
  lookups: Map<string, { spec: LookupSpec; names: Set<string> }>;
  /** Models whose fields to read (lookups, mappings). */
  fieldModels: Set<string>;
  /** `model:right` pairs to ask about. */
  rights: Set<string>;
  groups: Set<string>;
  /** Does Odoo have an internal transfer operation type (transfers need one). */
  internalPickingType: boolean;
}

/** The quality app the operation would use: Enterprise first, as the operation does. */
export function qualityAppOf(apps: ReadonlySet<string>): QualityApp | undefined {
  if (apps.has('quality_control')) return 'quality_control';
  if (apps.has('quality_control_oca')) return 'quality_control_oca';
  return undefined;
}

const VARIANTS: EventVariant[] = ['transfer', 'count'];

/** Every need of the config on this Odoo: event uses (a generic mapping replaces its type's operation), and the master data pull. */
export function needsAt(demands: ConfigDemands, major: number, apps: ReadonlySet<string>): NeedAt[] {
  const quality = qualityAppOf(apps);
  const mapped = new Set<string>(demands.mappings.map((m) => m.eventType));
  const out: NeedAt[] = [];
  const add = (use: EventUse, variant: EventVariant | undefined) => {
    if (mapped.has(use.type)) return; // its model's rights are asked for the mapping itself
    const what = variant ? `${use.type} (${variant === 'count' ? 'inventory counts' : 'transfers'})` : use.type;
    out.push({
      what,
      type: use.type,
      ...(variant ? { variant } : {}),
      needs: needsOf(use.type, variant, major, quality),
      certain: use.certain,
      path: use.path,
    });
  };
  for (const use of demands.uses) {
    if (use.type === 'inventory.moved' && use.variant === undefined) for (const v of VARIANTS) add(use, v);
    else add(use, use.variant);
  }
  if (demands.masterData && apps.has('mrp'))
    out.push({ what: 'the master data pull', needs: MASTER_DATA_NEEDS, certain: true, path: ['schedules', 'masterData'] });
  return out;
}

/** The mapping's own need: create (and write, when a replay updates) on its model. */
export function mappingRights(writes: boolean): Right[] {
  return writes ? ['create', 'write'] : ['create'];
}

export function planQuestions(demands: ConfigDemands, major: number, apps: ReadonlySet<string>): Questions {
  const quality = qualityAppOf(apps);
  const q: Questions = { lookups: new Map(), fieldModels: new Set(), rights: new Set(), groups: new Set(), internalPickingType: false };
  for (const ref of demands.references) {
    const spec = lookupSpec(ref.kind, quality);
    if (!apps.has(spec.app)) continue;
    let entry = q.lookups.get(spec.model);
    if (!entry) {
      entry = { spec, names: new Set() };
      q.lookups.set(spec.model, entry);
    }
    entry.names.add(ref.name);
    q.fieldModels.add(spec.model);
  }
  for (const need of needsAt(demands, major, apps)) {
    if (!apps.has(need.needs.app)) continue;
    for (const m of need.needs.models) for (const r of m.rights) q.rights.add(`${m.model}:${r}`);
    for (const g of need.needs.groups) q.groups.add(g.group);
    if (need.type === 'inventory.moved' && need.variant === 'transfer') q.internalPickingType = true;
  }
  for (const m of demands.mappings) {
    q.fieldModels.add(m.model);
    for (const r of mappingRights(m.writes)) q.rights.add(`${m.model}:${r}`);
  }
  return q;
}
