/**
 * OPC UA Alarms & Conditions events (OPC 10000-9) to alarm signals. Pure: the
 * event's fields arrive as plain variants in the order of ALARM_FIELDS, so this
 * is tested with tables, without a server.
 */
import type { Signal } from '../../model/signal';
import { UaType, type RawVariant } from './decode';

/**
 * What the agent asks the server to send with each event (the select clauses
 * of its event filter), in this order. `ConditionId` is the condition's own
 * NodeId; `ActiveState.TransitionTime` is when it last became active or
 * inactive; `BranchId` is set on copies of earlier states kept for
 * acknowledgement.
 */
export const ALARM_FIELDS = [
  'EventId',
  'EventType',
  'SourceName',
  'Time',
  'Severity',
  'Message',
  'ConditionName',
  'ActiveState.Id',
  'AckedState.Id',
  'Retain',
  'ActiveState.TransitionTime',
  'BranchId',
  'ConditionId',
] as const;

/** Event types of the refresh cycle (OPC 10000-9, 5.11), as NodeId text. */
export const REFRESH_START = 'i=2787';
export const REFRESH_END = 'i=2788';
export const REFRESH_REQUIRED = 'i=2789';

/** One alarm transition as the server reported it. */
export interface AlarmFields {
  /** The event's id, hex. The same for a state the server re-sends in a refresh. */
  eventId: string;
  eventType: string;
  conditionId: string | null;
  sourceName: string;
  conditionName: string;
  /** The event's time (ISO). */
  time: string;
  /** When the alarm last became active or inactive (ISO), when the server tells. */
  transitionTime: string | null;
  severity: number;
  message: string;
  active: boolean;
  acked: boolean | null;
  retain: boolean;
}

export type DecodedAlarmEvent =
  | { kind: 'alarm'; alarm: AlarmFields }
  | { kind: 'refresh-start' | 'refresh-end' | 'refresh-required' }
  /** A copy of an earlier state kept for acknowledgement (a branch): not a transition of the alarm. */
  | { kind: 'branch' }
  | { kind: 'invalid'; reason: string };

const NULL_NODE_IDS = new Set(['', 'i=0', 'ns=0;i=0']);

function nodeIdText(v: RawVariant | undefined): string | null {
  if (!v || v.dataType !== UaType.NodeId || v.value === null || v.value === undefined) return null;
  // namespace 0 written without its prefix, as in the config: "i=2915"
  const text = String(v.value).replace(/^ns=0;/, '');
  return NULL_NODE_IDS.has(text) ? null : text;
}

function text(v: RawVariant | undefined): string | null {
  if (!v || v.value === null || v.value === undefined) return null;
  if (v.dataType === UaType.String) return typeof v.value === 'string' ? v.value : null;
  if (v.dataType === UaType.LocalizedText) {
    const t = (v.value as { text?: unknown }).text;
    return typeof t === 'string' ? t : t === null || t === undefined ? '' : null;
  }
  return null;
}

function time(v: RawVariant | undefined): string | null {
  if (!v || v.dataType !== UaType.DateTime || !(v.value instanceof Date)) return null;
  const ms = v.value.getTime();
  // OPC UA's "no time" is 1601-01-01, which node-opcua may give as a date before 1970
  return Number.isFinite(ms) && ms > 0 ? v.value.toISOString() : null;
}

function bool(v: RawVariant | undefined): boolean | null {
  return v && v.dataType === UaType.Boolean && typeof v.value === 'boolean' ? v.value : null;
}

/** The hex of a ByteString (a Buffer or a byte array). */
function bytesHex(v: RawVariant | undefined): string | null {
  if (!v || v.dataType !== UaType.ByteString || v.value === null || v.value === undefined) return null;
  const value = v.value;
  if (value instanceof Uint8Array) return value.length > 0 ? Buffer.from(value).toString('hex') : null;
  return null;
}

function describe(v: RawVariant | undefined): string {
  if (!v) return 'nothing';
  if (v.dataType === UaType.Null) return 'nothing';
  const shown = v.value instanceof Date ? v.value.toISOString() : v.value instanceof Uint8Array ? `${v.value.length} bytes` : String(v.value);
  return `${UaType[v.dataType] ?? `type ${v.dataType}`} ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`;
}

/** The fields of one event (in ALARM_FIELDS order) as an alarm transition, a refresh marker, or why it cannot be read. */
export function decodeAlarmEvent(fields: readonly RawVariant[]): DecodedAlarmEvent {
  const f = (name: (typeof ALARM_FIELDS)[number]) => fields[ALARM_FIELDS.indexOf(name)];
  const eventType = nodeIdText(f('EventType'));
  if (eventType === REFRESH_START) return { kind: 'refresh-start' };
  if (eventType === REFRESH_END) return { kind: 'refresh-end' };
  if (eventType === REFRESH_REQUIRED) return { kind: 'refresh-required' };
  if (nodeIdText(f('BranchId')) !== null) return { kind: 'branch' };

  const problems: string[] = [];
  const eventId = bytesHex(f('EventId'));
  if (eventId === null) problems.push(`EventId is ${describe(f('EventId'))}, not a ByteString`);
  const at = time(f('Time'));
  if (at === null) problems.push(`Time is ${describe(f('Time'))}, not a time`);
  const sev = f('Severity');
  const severity = sev && typeof sev.value === 'number' && Number.isInteger(sev.value) ? sev.value : null;
  if (severity === null || severity < 0 || severity > 1000) problems.push(`Severity is ${describe(sev)}, not 1-1000`);
  const active = bool(f('ActiveState.Id'));
  if (active === null) problems.push(`ActiveState/Id is ${describe(f('ActiveState.Id'))}, not a boolean (is this event an alarm?)`);
  const sourceName = text(f('SourceName')) ?? '';
  const conditionName = text(f('ConditionName')) ?? '';
  if (sourceName === '' && conditionName === '') problems.push('the event has neither SourceName nor ConditionName');
  if (problems.length > 0) return { kind: 'invalid', reason: `alarm event${eventType ? ` of type ${eventType}` : ''} cannot be read: ${problems.join('; ')}` };

  return {
    kind: 'alarm',
    alarm: {
      eventId: eventId!,
      eventType: eventType ?? '',
      conditionId: nodeIdText(f('ConditionId')),
      sourceName,
      conditionName,
      time: at!,
      transitionTime: time(f('ActiveState.TransitionTime')),
      severity: severity!,
      message: text(f('Message')) ?? '',
      active: active!,
      acked: bool(f('AckedState.Id')),
      retain: bool(f('Retain')) ?? false,
    },
  };
}

/** The signal's tag: `<SourceName>/<ConditionName>`, or the one of them the server gives. */
export function alarmTag(a: Pick<AlarmFields, 'sourceName' | 'conditionName'>): string {
  if (a.sourceName !== '' && a.conditionName !== '') return `${a.sourceName}/${a.conditionName}`;
  return a.sourceName !== '' ? a.sourceName : a.conditionName;
}

/** What an alarm signal carries as its value: rules read `active`, `severity`, `activeSeverity`, `acked`, `message` with `path`. */
export interface AlarmValue {
  [k: string]: unknown;
  active: boolean;
  severity: number;
  /** The severity while active, 0 while inactive: a `threshold` rule on it fires once per activation at or above a severity. */
  activeSeverity: number;
  acked: boolean | null;
  message: string;
  retain: boolean;
}

/**
 * One alarm transition as a signal. Its source time is the time of the active
 * transition (when the server gives one), so an acknowledgement, a severity
 * change or a refresh of the same activation carries the same time as the
 * activation itself: rules see no new fact and event ids stay the same.
 */
export function alarmSignal(source: string, alarms: string, a: AlarmFields, receivedAt: string, extra: Record<string, unknown> = {}): Signal {
  const value: AlarmValue = {
    active: a.active,
    severity: a.severity,
    activeSeverity: a.active ? a.severity : 0,
    acked: a.acked,
    message: a.message,
    retain: a.retain,
  };
  return {
    source,
    tag: alarmTag(a),
    value,
    quality: 'good',
    sourceTime: a.transitionTime ?? a.time,
    receivedAt,
    meta: {
      alarms,
      eventId: a.eventId,
      eventType: a.eventType,
      conditionId: a.conditionId,
      sourceName: a.sourceName,
      conditionName: a.conditionName,
      time: a.time,
      ...extra,
    },
  };
}
