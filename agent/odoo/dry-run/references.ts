import type { AgentConfig } from '../../config/schema';
import { EVENT_TYPES, type EventType } from '../../model/event';
import type { CaptureRuleConfig } from '../../rules/kinds/capture';
import type { CounterRuleConfig } from '../../rules/kinds/counter';
import type { EventRuleConfig } from '../../rules/kinds/event';
import type { OrderRuleConfig } from '../../rules/kinds/order';
import type { ScanRuleConfig } from '../../rules/kinds/scan';
import type { StateRuleConfig } from '../../rules/kinds/state';
import type { TemplateRuleConfig } from '../../rules/kinds/template';
import type { ThresholdRuleConfig } from '../../rules/kinds/threshold';
import { isTemplate } from '../../rules/template-language';
import { compileExpression, expressionProblem, isExpression } from '../../rules/expression';
import type { GenericMapping } from '../../sync/operations/generic-mapping';

/**
 * What a config asks of Odoo, read from the config alone (pure): the names it
 * gives for Odoo records, the event types it will send, and the models and
 * fields of its generic mappings. Each with its path in the config, so a
 * problem can be shown at its line.
 */

export type ConfigPath = ReadonlyArray<string | number>;

export type ReferenceKind = 'workcenter' | 'loss' | 'product' | 'lot' | 'location' | 'equipment' | 'production' | 'uom' | 'operation' | 'qualityTest';

/** A name in the config that must be a record in Odoo. */
export interface Reference {
  kind: ReferenceKind;
  name: string;
  path: ConfigPath;
  /** The name is the option's default, not written in the file. */
  isDefault?: boolean;
}

/** inventory.moved comes in two kinds that need different rights. */
export type EventVariant = 'count' | 'transfer';

/** An event type the config will (certain) or may (a rule that passes any type through) send. */
export interface EventUse {
  type: EventType;
  variant?: EventVariant;
  certain: boolean;
  path: ConfigPath;
}

export interface MappingField {
  /** The Odoo field, without a `/id` or `/.id` suffix. */
  field: string;
  suffix: '' | '/id' | '/.id';
  template: string;
  path: ConfigPath;
}

export interface MappingUse {
  eventType: EventType;
  model: string;
  /** The model is written again on a replay (onReplay: update). */
  writes: boolean;
  fields: MappingField[];
  path: ConfigPath;
}

export interface ConfigDemands {
  references: Reference[];
  uses: EventUse[];
  mappings: MappingUse[];
  /** Master data is pulled from Odoo on a schedule whenever Odoo is configured. */
  masterData: boolean;
}

/** The state rule's `reason` when the file gives none. */
const DEFAULT_LOSS = 'Equipment Failure';

/** Payload fields that name an Odoo record, whatever the event type. */
const PAYLOAD_NAMES: Record<string, ReferenceKind> = {
  workcenter: 'workcenter',
  product: 'product',
  location: 'location',
  fromLocation: 'location',
  toLocation: 'location',
  equipment: 'equipment',
  production: 'production',
  uom: 'uom',
  lot: 'lot',
  serial: 'lot',
  workorder: 'operation',
};

/** The kind of record a payload field of this event type names, if any. */
export function payloadReference(type: string, field: string): ReferenceKind | undefined {
  if (field === 'reason' && (type === 'downtime.started' || type === 'downtime.ended')) return 'loss';
  if (field === 'test' && type === 'quality.recorded') return 'qualityTest';
  return PAYLOAD_NAMES[field];
}

/** Everything the config names in Odoo and sends to it. */
export function configDemands(config: AgentConfig): ConfigDemands {
  const out: ConfigDemands = { references: [], uses: [], mappings: [], masterData: config.odoo !== undefined && config.sync.enabled };
  (config.rules as Array<{ kind: string; enabled?: boolean }>).forEach((rule, i) => {
    if (rule.enabled === false) return;
    ruleDemands(rule, ['rules', i], out);
  });
  config.sync.mappings.forEach((m, i) => out.mappings.push(mappingUse(m, ['sync', 'mappings', i])));
  return out;
}

function ruleDemands(rule: { kind: string }, at: ConfigPath, out: ConfigDemands): void {
  const ref = (kind: ReferenceKind, name: string | undefined, ...path: Array<string | number>) => {
    if (name !== undefined && name.trim() !== '') out.references.push({ kind, name: name.trim(), path: [...at, ...path] });
  };
  const use = (type: EventType, certain = true, variant?: EventVariant) => out.uses.push({ type, certain, path: at, ...(variant ? { variant } : {}) });
  switch (rule.kind) {
    case 'counter': {
      const c = rule as CounterRuleConfig;
      ref('workcenter', c.workcenter, 'workcenter');
      ref('production', c.production, 'production');
      ref('uom', c.uom, 'uom');
      use('production.reported');
      return;
    }
    case 'order': {
      const c = rule as OrderRuleConfig;
      ref('workcenter', c.workcenter, 'workcenter');
      ref('operation', c.workorder, 'workorder');
      if (c.emitStarted) use('workorder.started');
      if (c.emitFinished) use('workorder.finished');
      return;
    }
    case 'state': {
      const c = rule as StateRuleConfig;
      ref('workcenter', c.workcenter, 'workcenter');
      for (const [code, entry] of Object.entries(c.codes)) ref('loss', entry.reason, 'codes', code, 'reason');
      // This reason is used for a boolean stop and for any code not listed, so it is always needed.
      out.references.push({ kind: 'loss', name: c.reason, path: [...at, 'reason'], ...(c.reason === DEFAULT_LOSS ? { isDefault: true } : {}) });
      use('downtime.started');
      use('downtime.ended');
      return;
    }
    case 'threshold': {
      const c = rule as ThresholdRuleConfig;
      ref('equipment', c.equipment, 'equipment');
      use('maintenance.requested');
      return;
    }
    case 'capture': {
      const c = rule as CaptureRuleConfig;
      ref('workcenter', c.workcenter, 'workcenter');
      constants(c.event, c.fields, [...at, 'fields'], out);
      use(c.event, true, variantOf(c.event, c.fields.kind));
      return;
    }
    case 'template': {
      const c = rule as TemplateRuleConfig;
      if (isTemplate(c.type) || isExpression(c.type)) {
        for (const type of EVENT_TYPES) use(type, false);
        return;
      }
      const type = c.type as EventType;
      constants(type, c.payload, [...at, 'payload'], out);
      mapTargets(type, c, at, out);
      use(type, true, variantOf(type, c.payload.kind));
      return;
    }
    case 'scan': {
      const c = rule as ScanRuleConfig;
      ref('uom', c.uom, 'uom');
      if (c.moveFrom !== undefined) ref('location', c.moveFrom, 'moveFrom');
      const classes = new Set(c.classify.map((k) => k.as));
      const auto = c.itemEvent === 'auto';
      if (auto || c.itemEvent === 'material.consumed') use('material.consumed', !auto || classes.has('order'));
      if (auto || c.itemEvent === 'inventory.moved') use('inventory.moved', !auto || classes.has('location'), 'transfer');
      if (c.orderEvent === 'workorder.started') {
        ref('workcenter', c.workcenter, 'workcenter');
        use('workorder.started');
      }
      return;
    }
    case 'event': {
      const c = rule as EventRuleConfig;
      for (const type of c.types ?? EVENT_TYPES) use(type, c.types !== undefined);
      return;
    }
    default:
      return;
  }
}

/** A template field that holds no placeholder is a constant: when it names a record, Odoo must have it. */
function constants(type: string, fields: Record<string, unknown>, at: ConfigPath, out: ConfigDemands): void {
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || isTemplate(value) || isExpression(value) || value.trim() === '') continue;
    const kind = payloadReference(type, field);
    if (kind) out.references.push({ kind, name: value.trim(), path: [...at, field] });
  }
}

/** A field whose expression reads a value map may send any of the map's values: when the field names a record, Odoo must have each. */
function mapTargets(type: string, c: TemplateRuleConfig, at: ConfigPath, out: ConfigDemands): void {
  for (const [field, value] of Object.entries(c.payload)) {
    const kind = payloadReference(type, field);
    if (!kind || typeof value !== 'string' || !isExpression(value) || expressionProblem(value) !== undefined) continue;
    for (const { name } of compileExpression(value).mapsRead) {
      for (const [code, target] of Object.entries(c.maps[name] ?? {})) {
        if (typeof target === 'string' && target.trim() !== '') out.references.push({ kind, name: target.trim(), path: [...at, 'maps', name, code] });
      }
    }
  }
}

/** An inventory.moved rule sends counts, transfers, or (a templated kind) either. */
function variantOf(type: string, kind: unknown): EventVariant | undefined {
  if (type !== 'inventory.moved') return undefined;
  return kind === 'count' || kind === 'transfer' ? kind : undefined;
}

function mappingUse(m: GenericMapping, at: ConfigPath): MappingUse {
  return {
    eventType: m.eventType,
    model: m.model,
    writes: m.onReplay === 'update',
    path: at,
    fields: Object.entries(m.fields).map(([key, template]) => {
      const suffix = key.endsWith('/.id') ? '/.id' : key.endsWith('/id') ? '/id' : '';
      return { field: key.slice(0, key.length - suffix.length), suffix, template, path: [...at, 'fields', key] };
    }),
  };
}
