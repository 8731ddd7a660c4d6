import type { OdooFacts } from './ask-odoo';
import { closestNames } from './closest';
import { APPS, lookupSpec, type QualityApp } from './needs';
import { mappingRights, needsAt, qualityAppOf, type NeedAt } from './plan';
import type { ConfigDemands, ConfigPath, MappingUse, Reference } from './references';

/**
 * What Odoo's answers mean for the config (pure): each problem at the place
 * in the config that causes it. An error is something the agent would trip
 * over (an event parked for a name or a right); a warning is something it
 * may trip over (a rule that can send any event type) or could not check.
 */

export type Severity = 'error' | 'warning';

export interface Finding {
  severity: Severity;
  path: ConfigPath;
  message: string;
}

/** A clock further apart than this (beyond the measuring error) is worth a warning. */
export const CLOCK_WARN_MS = 5000;

/** With no close name, the names Odoo has are listed when there are at most this many. */
const LIST_ALL_UP_TO = 8;

export function judge(demands: ConfigDemands, facts: OdooFacts): Finding[] {
  const out: Finding[] = [];
  const needs = needsAt(demands, facts.server.major, facts.apps);
  const quality = qualityAppOf(facts.apps);
  appFindings(needs, facts, out);
  for (const ref of demands.references) referenceFinding(ref, facts, quality, out);
  rightFindings(needs, demands.mappings, facts, out);
  for (const m of demands.mappings) mappingFindings(m, facts, out);
  if (facts.internalPickingType === false) {
    const at = needs.find((n) => n.type === 'inventory.moved' && n.variant === 'transfer');
    if (at) {
      out.push({
        severity: at.certain ? 'error' : 'warning',
        path: at.path,
        message: 'Odoo has no internal transfer operation type (stock.picking.type with type "internal"): transfers would park',
      });
    }
  }
  const clock = facts.clock;
  if (clock && Math.abs(clock.offsetMs) - clock.uncertaintyMs > CLOCK_WARN_MS) {
    out.push({ severity: 'warning', path: ['odoo', 'url'], message: `${describeClock(clock.offsetMs, clock.uncertaintyMs)}: set both to NTP` });
  }
  return out;
}

/** `Odoo's clock is 2.4 s ahead of this gateway's (± 0.3 s)`. */
export function describeClock(offsetMs: number, uncertaintyMs: number): string {
  const s = (ms: number) => `${(Math.abs(ms) / 1000).toFixed(1)} s`;
  if (Math.abs(offsetMs) <= uncertaintyMs) return `Odoo's clock agrees with this gateway's (within ${s(uncertaintyMs)})`;
  return `Odoo's clock is ${s(offsetMs)} ${offsetMs > 0 ? 'ahead of' : 'behind'} this gateway's (± ${s(uncertaintyMs)})`;
}

function appLabel(module: string): string {
  return APPS.find((a) => a.module === module)?.label ?? module;
}

function userName(facts: OdooFacts): string {
  return facts.user.login ? `the Odoo user "${facts.user.login}"` : `the agent's Odoo user (id ${facts.user.uid})`;
}

function appFindings(needs: NeedAt[], facts: OdooFacts, out: Finding[]): void {
  const byPlace = new Map<string, { need: NeedAt; whats: string[] }>();
  for (const need of needs) {
    if (facts.apps.has(need.needs.app)) continue;
    const key = `${JSON.stringify(need.path)} ${need.needs.app}`;
    const seen = byPlace.get(key);
    if (seen) {
      if (!seen.whats.includes(need.what)) seen.whats.push(need.what);
      seen.need.certain ||= need.certain;
    } else byPlace.set(key, { need: { ...need }, whats: [need.what] });
  }
  for (const { need, whats } of byPlace.values()) {
    const app =
      need.type === 'quality.recorded'
        ? 'no quality app (Enterprise quality_control or the OCA quality_control_oca)'
        : `no ${appLabel(need.needs.app)} app (${need.needs.app} is not installed)`;
    out.push({
      severity: need.certain ? 'error' : 'warning',
      path: need.path,
      message: `${need.certain ? 'sends' : 'may send'} ${whats.join(', ')}, but Odoo has ${app}: these events would park`,
    });
  }
}

function referenceFinding(ref: Reference, facts: OdooFacts, quality: QualityApp | undefined, out: Finding[]): void {
  const spec = lookupSpec(ref.kind, quality);
  const what = `${spec.label} "${ref.name}"${ref.isDefault ? ' (the default)' : ''}`;
  const error = (message: string): void => {
    out.push({ severity: 'error', path: ref.path, message });
  };
  if (!facts.apps.has(spec.app)) {
    if (ref.kind !== 'qualityTest' || quality === undefined) error(`no ${what}: Odoo has no ${appLabel(spec.app)} app`);
    return;
  }
  if (facts.fields.get(spec.model) === null) return error(`no ${what}: Odoo has no model ${spec.model}`);
  const answer = facts.names.get(spec.model);
  if (!answer) return;
  if (answer.failure !== undefined) {
    out.push({ severity: 'warning', path: ref.path, message: `could not look up ${what} in Odoo: ${answer.failure}` });
    return;
  }
  const matches = answer.matches.get(ref.name) ?? [];
  const active = matches.filter((r) => r.active);
  if (active.length === 0) {
    if (matches.length > 0) return error(`${what} is archived in Odoo: the agent does not use archived records (unarchive it, or name another)`);
    return error(`no ${what} in Odoo (looked for ${spec.model} by ${spec.fields.join(' or ')})${hint(ref.name, answer.candidates)}`);
  }
  // A lot name is unique per product only; the operations look lots up with their product.
  if (active.length > 1 && ref.kind !== 'lot') {
    const shown = active.slice(0, 5).map((r) => `"${String(r.values.display_name ?? r.id)}"`);
    return error(`${what} is ambiguous in Odoo: ${active.length} records match (${shown.join(', ')}); events naming it would park`);
  }
  const state = active[0]!.values.state;
  if (ref.kind === 'production' && (state === 'done' || state === 'cancel')) {
    out.push({ severity: 'warning', path: ref.path, message: `${what} is ${state === 'done' ? 'done' : 'cancelled'} in Odoo: reports on it would park` });
  }
}

function hint(name: string, candidates: string[]): string {
  const close = closestNames(name, candidates);
  if (close.length > 0) return `; closest: ${close.map((c) => `"${c}"`).join(', ')}`;
  const distinct = [...new Set(candidates)];
  if (distinct.length === 0) return '; Odoo has none';
  if (distinct.length <= LIST_ALL_UP_TO) return `; Odoo has ${distinct.map((c) => `"${c}"`).join(', ')}`;
  return '';
}

function rightFindings(needs: NeedAt[], mappings: MappingUse[], facts: OdooFacts, out: Finding[]): void {
  type Want = { what: string; certain: boolean; path: ConfigPath };
  const wanted = new Map<string, Want[]>();
  const want = (model: string, right: string, w: Want) => {
    const key = `${model}:${right}`;
    wanted.set(key, [...(wanted.get(key) ?? []), w]);
  };
  for (const need of needs) {
    if (!facts.apps.has(need.needs.app)) continue;
    for (const m of need.needs.models) for (const r of m.rights) want(m.model, r, need);
  }
  for (const m of mappings) for (const r of mappingRights(m.writes)) want(m.model, r, { what: `the mapping of ${m.eventType}`, certain: true, path: m.path });

  // One finding per model and place: the rights missing there, and what needs them.
  const missing = new Map<string, { model: string; path: ConfigPath; certain: boolean; rights: Set<string>; whats: Set<string> }>();
  const unknown = new Map<string, { path: ConfigPath; reason: string }>();
  for (const [key, wants] of wanted) {
    const [model, right] = key.split(':') as [string, string];
    const allowed = facts.rights.get(key);
    if (allowed === undefined) {
      const reason = facts.rightFailures.get(key);
      if (reason !== undefined && !unknown.has(model)) unknown.set(model, { path: wants[0]!.path, reason });
      continue;
    }
    if (allowed) continue;
    const first = wants.find((w) => w.certain) ?? wants[0]!;
    const place = `${model} ${JSON.stringify(first.path)}`;
    const entry = missing.get(place) ?? { model, path: first.path, certain: false, rights: new Set<string>(), whats: new Set<string>() };
    entry.rights.add(right);
    for (const w of wants) {
      entry.whats.add(w.what);
      entry.certain ||= w.certain;
    }
    missing.set(place, entry);
  }
  for (const e of missing.values()) {
    const rights = ['read', 'create', 'write', 'unlink'].filter((r) => e.rights.has(r));
    out.push({
      severity: e.certain ? 'error' : 'warning',
      path: e.path,
      message: `${userName(facts)} may not ${rights.join(' or ')} ${e.model} records (Odoo access rights), which ${[...e.whats].join(', ')} ${e.whats.size > 1 ? 'need' : 'needs'}: give the user the rights (Settings > Users)`,
    });
  }
  for (const [model, u] of unknown) {
    out.push({ severity: 'warning', path: u.path, message: `could not ask Odoo about the rights on ${model}: ${u.reason}` });
  }

  const groupWants = new Map<string, { need: NeedAt; label: string; why: string; whats: Set<string> }>();
  for (const need of needs) {
    for (const g of need.needs.groups) {
      if (facts.groups.get(g.group) !== false) continue;
      const entry = groupWants.get(g.group) ?? { need, label: g.label, why: g.why, whats: new Set<string>() };
      if (need.certain && !entry.need.certain) entry.need = need;
      entry.whats.add(need.what);
      groupWants.set(g.group, entry);
    }
  }
  for (const [group, g] of groupWants) {
    out.push({
      severity: g.need.certain ? 'error' : 'warning',
      path: g.need.path,
      message: `${userName(facts)} is not in the group ${g.label} (${group}): ${g.why}, which ${[...g.whats].join(', ')} ${g.whats.size > 1 ? 'need' : 'needs'}`,
    });
  }
}

const RELATIONAL = new Set(['many2one', 'one2many', 'many2many']);

function mappingFindings(m: MappingUse, facts: OdooFacts, out: Finding[]): void {
  const fields = facts.fields.get(m.model);
  if (fields === null) {
    out.push({ severity: 'error', path: [...m.path, 'model'], message: `Odoo has no model ${m.model} (or its app is not installed)` });
    return;
  }
  if (fields === undefined) {
    const reason = facts.fieldFailures.get(m.model);
    if (reason !== undefined) out.push({ severity: 'warning', path: [...m.path, 'model'], message: `could not read the fields of ${m.model}: ${reason}` });
    return;
  }
  for (const f of m.fields) {
    const info = fields[f.field];
    if (!info) {
      const close = closestNames(f.field, Object.keys(fields));
      out.push({
        severity: 'error',
        path: f.path,
        message: `${m.model} has no field ${f.field} (or ${userName(facts)} may not see it)${close.length ? `; closest: ${close.join(', ')}` : ''}`,
      });
    } else if (f.suffix !== '' && !RELATIONAL.has(info.type)) {
      out.push({ severity: 'error', path: f.path, message: `${m.model}.${f.field} is a ${info.type} field: ${f.suffix} is for relation fields; drop it` });
    }
  }
}
