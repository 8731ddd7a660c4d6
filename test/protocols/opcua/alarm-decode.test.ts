/**
 * Alarm events to signals, as tables: no server. The fields arrive in
 * ALARM_FIELDS order as plain variants.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALARM_FIELDS, alarmSignal, alarmTag, decodeAlarmEvent, type AlarmFields } from '../../../agent/protocols/opcua/alarm-decode';
import { AlarmTracker } from '../../../agent/protocols/opcua/alarm-tracker';
import { opcuaConfig } from './helpers';
import { UaType, type RawVariant } from '../../../agent/protocols/opcua/decode';

const v = (dataType: UaType, value: unknown): RawVariant => ({ dataType, arrayType: 0, value });
const NOTHING = v(UaType.Null, null);
const ACTIVE_AT = new Date('2026-03-02T06:00:00.000Z');

function event(over: Partial<Record<(typeof ALARM_FIELDS)[number], RawVariant>> = {}): RawVariant[] {
  const base: Record<(typeof ALARM_FIELDS)[number], RawVariant> = {
    EventId: v(UaType.ByteString, Buffer.from('0a0b0c', 'hex')),
    EventType: v(UaType.NodeId, 'ns=0;i=2915'),
    SourceName: v(UaType.String, 'Press1'),
    Time: v(UaType.DateTime, new Date('2026-03-02T06:00:01.000Z')),
    Severity: v(UaType.UInt16, 800),
    Message: v(UaType.LocalizedText, { text: 'hydraulic pressure low' }),
    ConditionName: v(UaType.String, 'HydraulicPressureAlarm'),
    'ActiveState.Id': v(UaType.Boolean, true),
    'AckedState.Id': v(UaType.Boolean, false),
    Retain: v(UaType.Boolean, true),
    'ActiveState.TransitionTime': v(UaType.DateTime, ACTIVE_AT),
    BranchId: v(UaType.NodeId, 'ns=0;i=0'),
    ConditionId: v(UaType.NodeId, 'ns=2;s=Press1.HydraulicPressureAlarm'),
  };
  return ALARM_FIELDS.map((f) => over[f] ?? base[f]);
}

describe('alarm events', () => {
  it('an active alarm: fields, tag, and the activation time as source time', () => {
    const d = decodeAlarmEvent(event());
    assert.equal(d.kind, 'alarm');
    const a = (d as { alarm: AlarmFields }).alarm;
    assert.equal(a.eventId, '0a0b0c');
    assert.equal(a.eventType, 'i=2915');
    assert.equal(a.conditionId, 'ns=2;s=Press1.HydraulicPressureAlarm');
    const s = alarmSignal('press1-plc', 'alarms-1', a, '2026-03-02T06:00:02.000Z');
    assert.equal(s.tag, 'Press1/HydraulicPressureAlarm');
    assert.equal(s.sourceTime, ACTIVE_AT.toISOString());
    assert.deepEqual(s.value, { active: true, severity: 800, activeSeverity: 800, acked: false, message: 'hydraulic pressure low', retain: true });
  });

  it('without a transition time the event time is the source time; inactive has activeSeverity 0', () => {
    const d = decodeAlarmEvent(event({ 'ActiveState.TransitionTime': NOTHING, 'ActiveState.Id': v(UaType.Boolean, false) }));
    const s = alarmSignal('p', 'a', (d as { alarm: AlarmFields }).alarm, 'x');
    assert.equal(s.sourceTime, '2026-03-02T06:00:01.000Z');
    assert.equal((s.value as { activeSeverity: number }).activeSeverity, 0);
  });

  for (const [name, over, expected] of [
    ['refresh start', { EventType: v(UaType.NodeId, 'ns=0;i=2787') }, 'refresh-start'],
    ['refresh end', { EventType: v(UaType.NodeId, 'i=2788') }, 'refresh-end'],
    ['refresh required', { EventType: v(UaType.NodeId, 'i=2789') }, 'refresh-required'],
    ['a branch (an earlier state kept for acknowledgement)', { BranchId: v(UaType.NodeId, 'ns=2;i=99') }, 'branch'],
  ] as const) {
    it(`${name}: ${expected}`, () => assert.equal(decodeAlarmEvent(event(over)).kind, expected));
  }

  for (const [name, over, reason] of [
    ['no ActiveState (not an alarm)', { 'ActiveState.Id': NOTHING }, /ActiveState\/Id is nothing, not a boolean/],
    ['Severity as text', { Severity: v(UaType.String, 'high') }, /Severity is String high, not 1-1000/],
    ['Severity out of range', { Severity: v(UaType.UInt16, 5000) }, /Severity is UInt16 5000/],
    ['no EventId', { EventId: NOTHING }, /EventId is nothing/],
    ['Time not a time', { Time: v(UaType.String, 'yesterday') }, /Time is String yesterday, not a time/],
    ['no names', { SourceName: NOTHING, ConditionName: NOTHING }, /neither SourceName nor ConditionName/],
  ] as const) {
    it(`invalid: ${name}`, () => {
      const d = decodeAlarmEvent(event(over));
      assert.equal(d.kind, 'invalid');
      assert.match((d as { reason: string }).reason, reason);
    });
  }

  it('tag: source and condition name, or the one given', () => {
    assert.equal(alarmTag({ sourceName: 'Press1', conditionName: '' }), 'Press1');
    assert.equal(alarmTag({ sourceName: '', conditionName: 'Overload' }), 'Overload');
  });
});

describe('alarm tracker', () => {
  const alarm = (over: Partial<AlarmFields> = {}): AlarmFields => ({
    ...(decodeAlarmEvent(event()) as { alarm: AlarmFields }).alarm,
    ...over,
  });

  it('a refresh re-sending a known state is not reported again; an alarm the refresh does not mention is reported inactive (inferred)', () => {
    const t = new AlarmTracker('press1-plc', 'alarms-1');
    assert.ok(t.onAlarm(alarm(), 'r1'));
    assert.ok(t.onAlarm(alarm({ eventId: 'ff', conditionName: 'Overload' }), 'r1'));
    assert.equal(t.activeCount, 2);
    t.beginRefresh();
    assert.equal(t.onAlarm(alarm(), 'r2'), null, 'the same event and state again');
    const cleared = t.onRefreshEnd('2026-03-02T07:00:00.000Z');
    assert.equal(cleared.length, 1);
    assert.equal(cleared[0]!.tag, 'Press1/Overload');
    assert.equal((cleared[0]!.value as { active: boolean }).active, false);
    assert.equal(cleared[0]!.meta?.inferred, true);
    assert.equal(t.activeCount, 1);
    assert.equal(t.refreshes, 1);
  });

  it('a refresh end without a refresh the agent asked for changes nothing; a refused refresh is cancelled', () => {
    const t = new AlarmTracker('p', 'a');
    t.onAlarm(alarm(), 'r');
    assert.deepEqual(t.onRefreshEnd('x'), []);
    t.beginRefresh();
    t.cancelRefresh();
    assert.deepEqual(t.onRefreshEnd('x'), []);
    assert.equal(t.activeCount, 1);
  });

  it('the same EventId with a new state (acknowledged) is reported', () => {
    const t = new AlarmTracker('p', 'a');
    t.onAlarm(alarm(), 'r');
    assert.ok(t.onAlarm(alarm({ acked: true }), 'r'));
  });
});

describe('alarms config', () => {
  const base = { endpointUrl: 'opc.tcp://plc:4840', subscriptions: [{ items: [{ tag: 't', nodeId: 'i=2258' }] }] };
  it('defaults: none; an entry gets the Server object, AlarmConditionType, severity 0', () => {
    assert.deepEqual(opcuaConfig(base).alarms, []);
    assert.deepEqual(opcuaConfig({ ...base, alarms: [{}] }).alarms, [
      { notifier: 'i=2253', eventTypes: ['i=2915'], minSeverity: 0, publishingIntervalMs: 1000, queueSize: 1000 },
    ]);
  });
  it('a malformed notifier or a severity above 1000 is a config error', () => {
    assert.throws(() => opcuaConfig({ ...base, alarms: [{ notifier: 'PressArea' }] }), /\\"PressArea\\" is not a NodeId/);
    assert.throws(() => opcuaConfig({ ...base, alarms: [{ minSeverity: 1200 }] }), /1000/);
    assert.throws(() => opcuaConfig({ ...base, alarms: [{ name: 'a' }, { name: 'a' }] }), /alarms name \\"a\\" is used twice/);
  });
});
