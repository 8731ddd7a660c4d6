import type { Signal, SignalValue } from '../../model/signal';
import {
  isoFromMillis,
  isUnusableNumber,
  metricValue,
  parameterValue,
  propertySetValue,
  Refusal,
  smallUnsigned,
  unsigned64,
  valueField,
  type RawMetric,
  type RawPayload,
  type RawTemplate,
} from './decode';
import { DataType, dataTypeName } from './schema';
import type { SparkplugTopic } from './topic';
import type { DeviceHealth } from '../types';

/**
 * What the agent knows of the edge nodes and devices it hears: which are
 * born, their metric names, aliases and data types (from the births), the
 * last sequence number and bdSeq, and the last value of every metric (kept
 * so a death can mark them stale). Turns each message into signals. Pure: no
 * I/O, the caller publishes the rebirth requests it asks for.
 */

/** Tag suffix of the signal that says whether an edge node or device is online (true after its birth, false after its death). */
export const ONLINE_METRIC = '$online';

/** Template members nested deeper than this are refused. */
const MAX_TEMPLATE_DEPTH = 8;

export interface Outcome {
  signals: Signal[];
  /** Metrics (or the whole message) that could not be used, each with its reason: kept as invalid input with the payload. */
  problems: string[];
  /** Why the edge node should publish its birth again (a rebirth request is due). */
  rebirth?: string;
  /** The message was left aside on purpose (a death of an older session): logged and counted, nothing is invalid. */
  ignored?: string;
}

interface MetricDef {
  name: string;
  tag: string;
  datatype: number;
  /** The shared meta of its last plain reading (data type and message type), reused while they stay the same. */
  meta?: Readonly<Record<string, unknown>>;
}

interface LastValue {
  value: SignalValue;
  datatype: string;
  at: string;
  quality: Signal['quality'];
}

interface Holder {
  /** Born since the agent connected (its aliases are known). */
  born: boolean;
  /** Online as far as the agent knows: a birth seen, no death since. */
  online: boolean;
  /** When the state last changed (ISO). */
  since: string | null;
  aliases: Map<number | string, MetricDef>;
  byName: Map<string, MetricDef>;
  last: Map<string, LastValue>;
}

interface Device extends Holder {
  name: string;
}

interface EdgeNode extends Holder {
  group: string;
  node: string;
  key: string;
  /** bdSeq of the current birth, as text (undefined: the birth had none). */
  bdSeq: string | undefined;
  /** Sequence number of the last message, or undefined before the birth. */
  seq: number | undefined;
  devices: Map<string, Device>;
  templates: Map<string, RawTemplate>;
  lastDataAt: string | null;
}

/** A metric as a birth declared it: name, alias (null: none), data type. */
export type SavedMetric = [name: string, alias: number | string | null, datatype: number];

/** An edge node's birth and its devices' births, as kept across a restart (reader.ts). */
export interface SavedBirth {
  group: string;
  node: string;
  bdSeq?: string;
  since: string | null;
  metrics: SavedMetric[];
  devices: Array<{ name: string; since: string | null; metrics: SavedMetric[] }>;
}

/** One edge node or device, as the status page shows it. */
export type EdgeNodeHealth = DeviceHealth;

function holder(): Holder {
  return { born: false, online: false, since: null, aliases: new Map(), byName: new Map(), last: new Map() };
}

/** The quality a metric's `Quality` property gives (OPC DA codes: 192 good, 64-191 uncertain, below 64 bad; Ignition's 500 stale is bad). */
function qualityOf(properties: Record<string, SignalValue> | undefined): Signal['quality'] {
  const q = properties?.Quality ?? properties?.quality;
  if (typeof q !== 'number') return 'good';
  if (q >= 192 && q <= 255) return 'good';
  if (q >= 64 && q < 192) return 'uncertain';
  return 'bad';
}

function millis(v: RawPayload['timestamp']): number | undefined {
  const n = smallUnsigned(v);
  return n !== undefined && n > 0 ? n : undefined;
}

export class EdgeNodes {
  private readonly nodes = new Map<string, EdgeNode>();
  /** Deaths left aside because their bdSeq was not the current birth's. */
  staleDeaths = 0;
  /** Shared meta of plain readings, by data type and message type. */
  private readonly metas = new Map<string, Record<string, unknown>>();
  /** Arrival time of the message being handled. */
  private receivedAt = '';

  constructor(private readonly source: string) {}

  /** Turn one decoded message into signals. */
  handle(topic: SparkplugTopic, payload: RawPayload, receivedAt: string): Outcome {
    const out: Outcome = { signals: [], problems: [] };
    this.receivedAt = receivedAt;
    const node = this.nodeOf(topic.group, topic.node);
    const at = isoFromMillis(millis(payload.timestamp) ?? Date.parse(receivedAt)) ?? receivedAt;
    switch (topic.type) {
      case 'NBIRTH':
        this.nodeBirth(node, payload, at, receivedAt, out);
        break;
      case 'NDEATH':
        this.nodeDeath(node, payload, at, out);
        break;
      case 'NDATA':
        if (!this.inSession(node, topic, payload, out)) break;
        this.metrics(node, node, `${node.key}/`, payload, receivedAt, topic.type, out);
        break;
      case 'DBIRTH': {
        if (!this.inSession(node, topic, payload, out)) break;
        const device = this.deviceOf(node, topic.device!);
        device.aliases.clear();
        device.byName.clear();
        device.born = true;
        this.goOnline(device, `${node.key}/${device.name}`, at, topic.type, out);
        this.metrics(node, device, `${node.key}/${device.name}/`, payload, receivedAt, topic.type, out, true);
        break;
      }
      case 'DDATA': {
        if (!this.inSession(node, topic, payload, out)) break;
        const device = node.devices.get(topic.device!);
        if (!device?.born) {
          out.problems.push(`DDATA from ${node.key}/${topic.device} before its DBIRTH`);
          out.rebirth ??= `DDATA from device ${topic.device} before its DBIRTH`;
          break;
        }
        this.metrics(node, device, `${node.key}/${device.name}/`, payload, receivedAt, topic.type, out);
        break;
      }
      case 'DDEATH': {
        if (!this.inSession(node, topic, payload, out)) break;
        const device = this.deviceOf(node, topic.device!);
        this.goStale(device, `${node.key}/${device.name}`, at, 'DDEATH', out);
        device.born = false;
        break;
      }
      default:
        out.problems.push(`${topic.type} is a command to an edge node, not read by the agent`);
    }
    return out;
  }

  /** Every edge node and device, for the status page. */
  health(valuesLimit: number): EdgeNodeHealth[] {
    const list: EdgeNodeHealth[] = [];
    const describe = (name: string, h: Holder, bdSeq?: string): EdgeNodeHealth => {
      const values: EdgeNodeHealth['values'] = [];
      for (const [metric, v] of h.last) {
        if (values.length >= valuesLimit) break;
        values.push({ metric, value: v.value, quality: v.quality, at: v.at });
      }
      return {
        name,
        state: h.online ? 'online' : h.since === null ? 'unborn' : 'stale',
        since: h.since,
        ...(bdSeq !== undefined ? { bdSeq } : {}),
        metrics: h.last.size,
        values,
      };
    };
    for (const n of this.nodes.values()) {
      list.push(describe(n.key, n, n.bdSeq));
      for (const d of n.devices.values()) list.push(describe(`${n.key}/${d.name}`, d));
    }
    return list;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** What the births of the edge nodes and devices now online declared: their metric names, aliases and data types. */
  births(): SavedBirth[] {
    const metricsOf = (h: Holder): SavedMetric[] => {
      const aliasOf = new Map<MetricDef, number | string>();
      for (const [alias, def] of h.aliases) aliasOf.set(def, alias);
      return [...h.byName.values()].map((def) => [def.name, aliasOf.get(def) ?? null, def.datatype]);
    };
    const out: SavedBirth[] = [];
    for (const n of this.nodes.values()) {
      if (!n.born) continue;
      const devices = [...n.devices.values()].filter((d) => d.born).map((d) => ({ name: d.name, since: d.since, metrics: metricsOf(d) }));
      out.push({ group: n.group, node: n.node, ...(n.bdSeq !== undefined ? { bdSeq: n.bdSeq } : {}), since: n.since, metrics: metricsOf(n), devices });
    }
    return out;
  }

  /**
   * Take births saved before a restart as if they had just been read (the
   * caller makes sure no message was missed since). The sequence number is
   * not known: the next message sets it. Returns how many edge nodes were taken.
   */
  restore(saved: readonly SavedBirth[]): number {
    const learn = (h: Holder, prefix: string, since: string | null, metrics: readonly SavedMetric[]) => {
      h.born = true;
      h.online = true;
      h.since = since;
      for (const [name, alias, datatype] of metrics) {
        const def: MetricDef = { name, tag: prefix + name, datatype };
        h.byName.set(name, def);
        if (alias !== null) h.aliases.set(alias, def);
      }
    };
    for (const b of saved) {
      const node = this.nodeOf(b.group, b.node);
      learn(node, `${node.key}/`, b.since, b.metrics);
      node.bdSeq = b.bdSeq;
      node.seq = undefined;
      for (const d of b.devices) learn(this.deviceOf(node, d.name), `${node.key}/${d.name}/`, d.since, d.metrics);
    }
    return saved.length;
  }

  // --- births and deaths -----------------------------------------------------

  private nodeBirth(node: EdgeNode, payload: RawPayload, at: string, receivedAt: string, out: Outcome): void {
    node.aliases.clear();
    node.byName.clear();
    node.templates.clear();
    node.born = true;
    node.seq = smallUnsigned(payload.seq);
    node.bdSeq = undefined;
    // A node's birth asks every device to be born again: their aliases are re-learned from the DBIRTHs that follow.
    for (const d of node.devices.values()) d.born = false;
    for (const m of payload.metrics) if (m.name === 'bdSeq') node.bdSeq = this.bdSeqOf(m);
    this.goOnline(node, node.key, at, 'NBIRTH', out);
    this.metrics(node, node, `${node.key}/`, payload, receivedAt, 'NBIRTH', out, true);
  }

  private nodeDeath(node: EdgeNode, payload: RawPayload, at: string, out: Outcome): void {
    const death = payload.metrics.find((m) => m.name === 'bdSeq');
    const bdSeq = death ? this.bdSeqOf(death) : undefined;
    if (node.bdSeq !== undefined && bdSeq !== undefined && bdSeq !== node.bdSeq) {
      this.staleDeaths++;
      out.ignored = `NDEATH of ${node.key} with bdSeq ${bdSeq}, but the current birth has bdSeq ${node.bdSeq}: a death of an earlier session, ignored`;
      return;
    }
    for (const d of node.devices.values()) {
      this.goStale(d, `${node.key}/${d.name}`, at, 'NDEATH', out);
      d.born = false;
    }
    this.goStale(node, node.key, at, 'NDEATH', out);
    node.born = false;
    node.seq = undefined;
  }

  private goOnline(h: Holder, prefix: string, at: string, messageType: string, out: Outcome): void {
    h.online = true;
    h.since = at;
    out.signals.push(this.signal(`${prefix}/${ONLINE_METRIC}`, true, 'good', at, { datatype: 'Boolean', messageType }));
  }

  /** A death: every metric's last value again with quality bad, then `$online` false (quality good: it is a fact). */
  private goStale(h: Holder, prefix: string, at: string, messageType: string, out: Outcome): void {
    // The `$online` signal is sent even when the agent never saw the birth (it started after it): the death is news all the same.
    const wasOnline = h.online || h.since === null;
    h.online = false;
    h.since = at;
    if (!wasOnline) return;
    for (const [tag, v] of h.last) {
      v.quality = 'bad';
      out.signals.push(this.signal(tag, v.value, 'bad', at, { datatype: v.datatype, messageType, stale: true }));
    }
    out.signals.push(this.signal(`${prefix}/${ONLINE_METRIC}`, false, 'good', at, { datatype: 'Boolean', messageType }));
  }

  private bdSeqOf(m: RawMetric): string | undefined {
    const field = valueField(m);
    if (field === 'longValue') return String(unsigned64(m.longValue));
    if (field === 'intValue') return String(m.intValue >>> 0);
    return undefined;
  }

  /** True when the edge node is born; checks and advances the sequence number. */
  private inSession(node: EdgeNode, topic: SparkplugTopic, payload: RawPayload, out: Outcome): boolean {
    if (!node.born) {
      out.problems.push(`${topic.type} from ${node.key}${topic.device ? `/${topic.device}` : ''} before its NBIRTH (since the agent connected)`);
      out.rebirth = `${topic.type} before the NBIRTH`;
      return false;
    }
    const seq = Object.hasOwn(payload, 'seq') ? smallUnsigned(payload.seq) : undefined;
    if (seq === undefined) {
      out.rebirth = `${topic.type} without a sequence number`;
      return true;
    }
    if (node.seq !== undefined && seq !== (node.seq + 1) % 256) {
      out.rebirth = `sequence gap: expected ${(node.seq + 1) % 256} after ${node.seq}, got ${seq}`;
    }
    node.seq = seq;
    return true;
  }

  // --- metrics -----------------------------------------------------------------

  private metrics(node: EdgeNode, h: Holder, prefix: string, payload: RawPayload, receivedAt: string, messageType: string, out: Outcome, birth = false): void {
    const fallback = millis(payload.timestamp) ?? Date.parse(receivedAt);
    const messageAt = isoFromMillis(fallback) ?? receivedAt;
    for (const m of payload.metrics) {
      let def: MetricDef | undefined;
      const hasName = Object.hasOwn(m, 'name');
      const alias = Object.hasOwn(m, 'alias') ? (smallUnsigned(m.alias) ?? String(unsigned64(m.alias))) : undefined;
      if (birth) {
        if (!hasName) {
          out.problems.push(`a metric of the ${messageType} has no name`);
          continue;
        }
        def = { name: m.name, tag: prefix + m.name, datatype: m.datatype };
        h.byName.set(m.name, def);
        if (alias !== undefined) h.aliases.set(alias, def);
      } else if (hasName) {
        def = h.byName.get(m.name);
        if (!def) {
          // Not in the birth: taken with the data type it carries.
          def = { name: m.name, tag: prefix + m.name, datatype: m.datatype };
          h.byName.set(m.name, def);
        }
      } else if (alias !== undefined) {
        def = h.aliases.get(alias);
        if (!def) {
          out.problems.push(`metric alias ${alias} is not in the birth of ${prefix.slice(0, -1)}`);
          out.rebirth ??= `unknown metric alias ${alias}`;
          continue;
        }
      } else {
        out.problems.push(`a metric of the ${messageType} has neither a name nor an alias`);
        continue;
      }
      const datatype = Object.hasOwn(m, 'datatype') && m.datatype !== 0 ? m.datatype : def.datatype;
      // Most metrics carry no time of their own, or the message's: the text is made once.
      const ms = Object.hasOwn(m, 'timestamp') ? millis(m.timestamp) : undefined;
      const at = ms === undefined || ms === fallback ? messageAt : (isoFromMillis(ms) ?? messageAt);
      if (datatype === DataType.Template) {
        if (Object.hasOwn(m, 'templateValue') && m.templateValue?.isDefinition) {
          node.templates.set(def.name, m.templateValue);
          h.byName.delete(def.name);
          continue;
        }
        this.template(h, def.tag, m, at, messageType, out, 0);
        continue;
      }
      this.reading(h, def.tag, m, datatype, at, messageType, out, undefined, def);
    }
    if (messageType !== 'NBIRTH' || out.signals.length > 0) node.lastDataAt = receivedAt;
  }

  private template(h: Holder, tag: string, m: RawMetric, at: string, messageType: string, out: Outcome, depth: number): void {
    if (m.isNull) {
      out.problems.push(`template ${tag} is null`);
      return;
    }
    const t = Object.hasOwn(m, 'templateValue') ? m.templateValue : undefined;
    if (!t) {
      out.problems.push(`${tag}: Template metric without template_value`);
      return;
    }
    if (depth >= MAX_TEMPLATE_DEPTH) {
      out.problems.push(`${tag}: templates nested deeper than ${MAX_TEMPLATE_DEPTH} levels`);
      return;
    }
    const parameters: Record<string, SignalValue> = {};
    for (const p of t.parameters ?? []) {
      const v = parameterValue(p);
      if (v instanceof Refusal) out.problems.push(`${tag}: template parameter '${p.name}': ${v.reason}`);
      else parameters[p.name] = v;
    }
    const extra: Record<string, unknown> = { template: t.templateRef || undefined };
    if (Object.keys(parameters).length > 0) extra.parameters = parameters;
    for (const member of t.metrics ?? []) {
      if (!Object.hasOwn(member, 'name')) {
        out.problems.push(`${tag}: a template member has no name`);
        continue;
      }
      const memberTag = `${tag}/${member.name}`;
      const memberAt = Object.hasOwn(member, 'timestamp') ? (isoFromMillis(millis(member.timestamp) ?? Date.parse(at)) ?? at) : at;
      if (member.datatype === DataType.Template) this.template(h, memberTag, member, memberAt, messageType, out, depth + 1);
      else this.reading(h, memberTag, member, member.datatype, memberAt, messageType, out, extra);
    }
  }

  private reading(
    h: Holder,
    tag: string,
    m: RawMetric,
    datatype: number,
    at: string,
    messageType: string,
    out: Outcome,
    extra?: Record<string, unknown>,
    def?: MetricDef,
  ): void {
    const v = metricValue(m, datatype);
    if (v instanceof Refusal) {
      out.problems.push(`${tag}: ${v.reason}`);
      return;
    }
    const typeName = dataTypeName(datatype) ?? String(datatype);
    const plain = !m.properties && !m.isHistorical && !m.isTransient && !extra;
    // The common reading (no properties, flags or template) shares one frozen meta per data type and message type.
    let meta: Record<string, unknown>;
    if (!plain) meta = { datatype: typeName, messageType };
    else if (def?.meta && def.meta.datatype === typeName && def.meta.messageType === messageType) meta = def.meta;
    else {
      meta = this.plainMeta(typeName, messageType);
      if (def) def.meta = meta;
    }
    let properties: Record<string, SignalValue> | undefined;
    if (m.properties) {
      const problems: string[] = [];
      properties = propertySetValue(m.properties, problems);
      for (const p of problems) out.problems.push(`${tag}: ${p}`);
      meta.properties = properties;
    }
    if (m.isHistorical) meta.historical = true;
    if (m.isTransient) meta.transient = true;
    if (extra) Object.assign(meta, extra);
    let quality = qualityOf(properties);
    let value = v;
    let signalMeta = meta;
    if (isUnusableNumber(value)) {
      signalMeta = { ...meta, reason: `${typeName} ${String(value)}` };
      value = null;
      quality = 'bad';
    }
    // Historical values are late news: the last value (what the page shows and a death repeats) stays the newer one.
    if (!m.isHistorical) {
      const known = h.last.get(tag);
      if (known) {
        known.value = value;
        known.datatype = typeName;
        known.at = at;
        known.quality = quality;
      } else {
        h.last.set(tag, { value, datatype: typeName, at, quality });
      }
    }
    out.signals.push(this.signal(tag, value, quality, at, signalMeta));
  }

  private plainMeta(datatype: string, messageType: string): Record<string, unknown> {
    const key = `${datatype}|${messageType}`;
    let meta = this.metas.get(key);
    if (!meta) {
      meta = Object.freeze({ datatype, messageType });
      this.metas.set(key, meta);
    }
    return meta;
  }

  private signal(tag: string, value: SignalValue, quality: Signal['quality'], sourceTime: string, meta: Record<string, unknown>): Signal {
    return { source: this.source, tag, value, quality, sourceTime, receivedAt: this.receivedAt, meta };
  }

  private nodeOf(group: string, name: string): EdgeNode {
    const key = `${group}/${name}`;
    let node = this.nodes.get(key);
    if (!node) {
      node = { ...holder(), group, node: name, key, bdSeq: undefined, seq: undefined, devices: new Map(), templates: new Map(), lastDataAt: null };
      this.nodes.set(key, node);
    }
    return node;
  }

  private deviceOf(node: EdgeNode, name: string): Device {
    let d = node.devices.get(name);
    if (!d) {
      d = { ...holder(), name };
      node.devices.set(name, d);
    }
    return d;
  }
}
