/**
 * OPC UA alarms and conditions against a real node-opcua server: the test
 * raises, acknowledges and clears the press hydraulic alarm of the fixture and
 * restarts the server while it is active.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Signal } from '../../../agent/model/signal';
import { OpcuaSource } from '../../../agent/protocols/opcua/adapter';
import type { AlarmValue } from '../../../agent/protocols/opcua/alarm-decode';
import { startTestServer, type TestServer } from './fixture';
import { CollectingContext, eventually, opcuaConfig, tempDir } from './helpers';

const FAST = { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 }, requestTimeoutMs: 5000, securityMode: 'None', securityPolicy: 'None' };
const TAG = 'Press1/HydraulicPressureAlarm';

const valueOf = (s: Signal) => s.value as AlarmValue;

describe('opcua alarms and conditions', () => {
  const tmp = tempDir('opcua-alarms');
  const serverPki = join(tmp.dir, 'server-pki');
  const stateDir = join(tmp.dir, 'state');
  let server: TestServer;
  const running: OpcuaSource[] = [];

  const source = (ctx: CollectingContext, alarms: Array<Record<string, unknown>>, endpointUrl = server.endpointUrl) => {
    const s = new OpcuaSource(
      opcuaConfig({
        ...FAST,
        endpointUrl,
        subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'counter', nodeId: server.nodeIds.counter }] }],
        alarms,
      }),
      ctx,
    );
    running.push(s);
    return s;
  };

  before(async () => {
    server = await startTestServer({ pkiDir: serverPki, tickMs: 100 });
  });

  after(async () => {
    for (const s of running) await s.stop();
    await server?.stop();
    tmp.remove();
  });

  it('raise, acknowledge, clear: one signal each, the activation time as source time, severity/message/acked in the value', async () => {
    const ctx = new CollectingContext(stateDir);
    const src = source(ctx, [{ notifier: server.alarm.areaNodeId, publishingIntervalMs: 100 }]);
    await src.start();
    await eventually(() => src.health().details?.alarms === 1 && (src.health().details?.alarmRefreshes as number) >= 1, 10_000, 'the alarm notifier monitored');
    await ctx.until((s) => s.some((x) => x.tag === 'counter'), 10_000, 'data');

    server.alarm.raise(800, 'hydraulic pressure low');
    await ctx.until((s) => s.some((x) => x.tag === TAG), 10_000, 'the alarm raised');
    const raised = ctx.of(TAG)[0]!;
    assert.deepEqual(
      { ...valueOf(raised) },
      { active: true, severity: 800, activeSeverity: 800, acked: false, message: 'hydraulic pressure low', retain: true },
    );
    assert.equal(raised.quality, 'good');
    assert.equal(raised.sourceTime, server.alarm.state().transitionTime!.toISOString(), 'source time = the active transition');
    assert.equal(raised.meta?.conditionName, 'HydraulicPressureAlarm');
    assert.equal(raised.meta?.sourceName, 'Press1');
    assert.match(String(raised.meta?.eventId), /^[0-9a-f]+$/);
    assert.match(String(raised.meta?.conditionId), /Press1\.HydraulicPressureAlarm/);

    server.alarm.acknowledge('seen by the shift lead');
    await ctx.until((s) => s.filter((x) => x.tag === TAG).length >= 2, 10_000, 'the acknowledgement');
    const acked = ctx.of(TAG)[1]!;
    assert.equal(valueOf(acked).active, true);
    assert.equal(valueOf(acked).acked, true);
    assert.equal(acked.sourceTime, raised.sourceTime, 'the acknowledgement keeps the activation time');

    server.alarm.clear('pressure back to normal');
    await ctx.until((s) => s.some((x) => x.tag === TAG && valueOf(x).active === false), 10_000, 'the alarm cleared');
    const cleared = ctx.of(TAG).at(-1)!;
    assert.equal(valueOf(cleared).activeSeverity, 0);
    assert.ok(Date.parse(cleared.sourceTime) >= Date.parse(raised.sourceTime));
    assert.equal(src.health().details?.alarmsActive, 0);
    assert.equal(ctx.invalid.length, 0);
    await src.stop();
  });

  it('a notifier the server does not know: a clear log line and health entry; data and other alarm entries go on', async () => {
    const ctx = new CollectingContext(stateDir, { captureLogs: true });
    const src = source(ctx, [
      { name: 'ghost-area', notifier: 'ns=7;s=NoSuchArea' },
      { name: 'server', publishingIntervalMs: 100 },
    ]);
    await src.start();
    await ctx.until((s) => s.some((x) => x.tag === 'counter'), 10_000, 'data');
    await eventually(() => (src.health().details?.alarmRefreshes as number) >= 1, 10_000, 'the first refresh of the Server entry');
    const details = src.health().details!;
    assert.equal(details.alarms, 1);
    const failed = details.failedAlarms as Array<{ name: string; reason: string }>;
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.name, 'ghost-area');
    assert.match(failed[0]!.reason, /notifier ns=7;s=NoSuchArea cannot be monitored for events \(.*Bad/);
    assert.ok(ctx.logLines.some((l) => /NoSuchArea cannot be monitored/.test(l.msg)));
    server.alarm.raise(500, 'filter clogged');
    await ctx.until((s) => s.some((x) => x.tag === TAG && valueOf(x).active), 10_000, 'the alarm through the Server object');
    server.alarm.clear('filter changed');
    await ctx.until((s) => s.some((x) => x.tag === TAG && !valueOf(x).active), 10_000, 'the clear');
    await src.stop();
  });

  it('an event whose fields do not decode is kept as invalid input with the reason; the next alarm still comes', async () => {
    const ctx = new CollectingContext(stateDir, { captureLogs: true });
    const src = source(ctx, [{ notifier: server.alarm.areaNodeId, eventTypes: ['i=2915', server.alarm.garbledType], publishingIntervalMs: 100 }]);
    await src.start();
    await eventually(() => src.health().details?.alarms === 1 && (src.health().details?.alarmRefreshes as number) >= 1, 10_000, 'monitored');
    await ctx.until((s) => s.some((x) => x.tag === 'counter'), 10_000, 'data');
    server.alarm.garbled();
    await eventually(() => ctx.invalid.length > 0, 10_000, 'invalid input');
    assert.match(ctx.invalid[0]!.reason, /ActiveState\/Id is nothing, not a boolean/);
    assert.equal(ctx.invalid[0]!.origin, 'alarms:alarms-1');
    assert.equal(ctx.invalid[0]!.source, 'line1-plc');
    assert.ok(ctx.logLines.some((l) => /kept as invalid input/.test(l.msg)));
    server.alarm.raise(650, 'oil temperature high');
    await ctx.until((s) => s.some((x) => x.tag === TAG && valueOf(x).active), 10_000, 'the alarm after the bad event');
    server.alarm.clear('ok');
    await ctx.until((s) => s.some((x) => x.tag === TAG && !valueOf(x).active), 10_000, 'the clear');
    assert.equal(src.health().details?.alarmEventsInvalid, 1);
    await src.stop();
  });

  it('minSeverity: a lower alarm is not reported active, its return to normal is', async () => {
    const ctx = new CollectingContext(stateDir);
    const src = source(ctx, [{ notifier: server.alarm.areaNodeId, minSeverity: 700, publishingIntervalMs: 100 }]);
    await src.start();
    await eventually(() => src.health().details?.alarms === 1 && (src.health().details?.alarmRefreshes as number) >= 1, 10_000, 'monitored');
    server.alarm.raise(300, 'minor');
    server.alarm.clear('ok again');
    await ctx.until((s) => s.some((x) => x.tag === TAG), 10_000, 'the clear');
    assert.deepEqual(
      ctx.of(TAG).map((s) => valueOf(s).active),
      [false],
    );
    await src.stop();
  });
});
