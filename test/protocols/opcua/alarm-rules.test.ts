/**
 * OPC UA alarms through the real pipeline (adapter -> rules -> SQLite outbox):
 * "press hydraulic pressure alarm active with severity >= 700" becomes one
 * maintenance request, the alarm's active time one downtime, and the server
 * restarting while the alarm is active (ConditionRefresh brings it back)
 * makes no second event. The rules are the examples of docs/adapters/opcua.md.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteOutbox } from '../../../agent/buffer/sqlite-outbox';
import type { Signal } from '../../../agent/model/signal';
import { OpcuaSource } from '../../../agent/protocols/opcua/adapter';
import type { AlarmValue } from '../../../agent/protocols/opcua/alarm-decode';
import { RuleEngine } from '../../../agent/rules/engine';
import { Pipeline } from '../../../agent/runtime/pipeline';
import { freePort, startTestServer, type TestServer } from './fixture';
import { CollectingContext, eventually, opcuaConfig, tempDir } from './helpers';

const TAG = 'Press1/HydraulicPressureAlarm';
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The two rule examples of docs/adapters/opcua.md ("Alarms and conditions"). */
const ALARM_RULES = [
  {
    kind: 'threshold',
    name: 'press1-hydraulic-alarm',
    source: 'press1-plc',
    tag: 'Press1/HydraulicPressureAlarm',
    path: 'activeSeverity',
    above: 699,
    equipment: 'Press 1 Hydraulic Unit',
    title: '{{tag}} active, severity {{value}}',
    priority: '2',
  },
  {
    kind: 'state',
    name: 'press1-alarm-downtime',
    source: 'press1-plc',
    tag: 'Press1/*',
    path: 'active',
    edge: 'rising',
    workcenter: 'Press 1',
    reason: 'Equipment Failure',
  },
];

describe('opcua alarms through the rules into the outbox', () => {
  const tmp = tempDir('opcua-alarm-rules');
  let server: TestServer;
  let port: number;
  const serverPki = join(tmp.dir, 'server-pki');
  const running: OpcuaSource[] = [];

  const restartServer = async (alarmActive?: { since: Date; severity: number; message: string }) => {
    await server.stop();
    server = await startTestServer({ pkiDir: serverPki, port, tickMs: 100, alarmActive });
  };

  before(async () => {
    port = await freePort();
    server = await startTestServer({ pkiDir: serverPki, port, tickMs: 100 });
  });

  after(async () => {
    for (const s of running) await s.stop();
    await server?.stop();
    tmp.remove();
  });

  const sourceConfig = () =>
    opcuaConfig({
      name: 'press1-plc',
      endpointUrl: server.endpointUrl,
      securityMode: 'None',
      securityPolicy: 'None',
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      requestTimeoutMs: 5000,
      subscriptions: [{ publishingIntervalMs: 100, items: [{ tag: 'line1.counter', nodeId: server.nodeIds.counter }] }],
      alarms: [{ notifier: server.alarm.areaNodeId, publishingIntervalMs: 100 }],
    });

  it('active at severity 800: one maintenance request and one downtime; acknowledged and a server restart while active: nothing new; cleared: the downtime ends', async () => {
    const outbox = new SqliteOutbox({ path: join(tmp.dir, 'outbox.db'), log });
    const pipeline = new Pipeline(outbox, RuleEngine.fromConfig(ALARM_RULES), { plant: 'plant1', log });
    const seen: Signal[] = [];
    const src = new OpcuaSource(sourceConfig(), {
      log,
      stateDir: join(tmp.dir, 'state'),
      plant: 'plant1',
      emit: async (signals) => {
        await pipeline.emit(signals);
        seen.push(...signals);
      },
      reject: (input) => pipeline.reject(input),
    });
    running.push(src);
    const alarmSignals = () => seen.filter((s) => s.tag === TAG);
    const events = () => outbox.list().map((r) => r.event);
    await src.start();
    await eventually(
      () => src.health().details?.alarms === 1 && (src.health().details?.alarmRefreshes as number) >= 1 && seen.length > 0,
      10_000,
      'connected, monitoring the area, first refresh done',
    );

    server.alarm.raise(800, 'hydraulic pressure low');
    await eventually(() => events().length === 2, 10_000, 'maintenance request and downtime');
    const since = server.alarm.state().transitionTime!;
    const request = events().find((e) => e.type === 'maintenance.requested')!;
    assert.deepEqual(request.payload, {
      equipment: 'Press 1 Hydraulic Unit',
      name: 'Press1/HydraulicPressureAlarm active, severity 800',
      maintenanceType: 'corrective',
      priority: '2',
    });
    assert.equal(request.occurredAt, since.toISOString());
    const started = events().find((e) => e.type === 'downtime.started')!;
    assert.equal((started.payload as { downtimeId: string }).downtimeId, `Press 1@${since.toISOString()}`);

    server.alarm.acknowledge('seen');
    await eventually(() => alarmSignals().some((s) => (s.value as AlarmValue).acked === true), 10_000, 'the acknowledgement');

    assert.deepEqual(
      alarmSignals().map((s) => [(s.value as AlarmValue).active, (s.value as AlarmValue).acked, s.meta?.refresh]),
      [
        [true, false, undefined],
        [true, true, undefined],
      ],
    );
    // the server restarts while the alarm is active; it keeps the alarm's state (and its activation time)
    const restartedAt = Date.now();
    await restartServer({ since, severity: 800, message: 'hydraulic pressure low' });
    await eventually(() => alarmSignals().some((s) => s.meta?.refresh === true), 30_000, 'the alarm again through ConditionRefresh');
    const refreshed = alarmSignals().find((s) => s.meta?.refresh === true)!;
    assert.ok(Date.parse(refreshed.receivedAt) > restartedAt, 'received from the restarted server');
    assert.equal((refreshed.value as AlarmValue).active, true);
    assert.equal(refreshed.sourceTime, since.toISOString(), 'the same activation');
    assert.equal(events().length, 2, 'no second request or downtime after the restart');
    assert.equal(outbox.counts().duplicates ?? 0, 0);

    server.alarm.clear('pressure back to normal');
    await eventually(() => events().length === 3, 10_000, 'the downtime ended');
    const ended = events()[2]!;
    assert.equal(ended.type, 'downtime.ended');
    assert.equal((ended.payload as { downtimeId: string }).downtimeId, `Press 1@${since.toISOString()}`);
    assert.equal(outbox.listInvalid().length, 0);
    await src.stop();
    await outbox.close();
  });

  it('an alarm that cleared while the server was down: reported inactive after the refresh, marked inferred; the downtime ends', async () => {
    const outbox = new SqliteOutbox({ path: join(tmp.dir, 'outbox-2.db'), log });
    const pipeline = new Pipeline(outbox, RuleEngine.fromConfig(ALARM_RULES), { plant: 'plant1', log });
    const ctx = new CollectingContext(join(tmp.dir, 'state'));
    const src = new OpcuaSource(sourceConfig(), {
      ...ctx,
      log,
      stateDir: ctx.stateDir,
      plant: 'plant1',
      emit: async (signals) => {
        await pipeline.emit(signals);
        await ctx.emit(signals);
      },
      reject: (input) => pipeline.reject(input),
    });
    running.push(src);
    await src.start();
    await eventually(() => src.health().details?.alarms === 1 && (src.health().details?.alarmRefreshes as number) >= 1, 10_000, 'monitoring');
    server.alarm.raise(900, 'pump motor overload');
    await ctx.until((s) => s.some((x) => x.tag === TAG && (x.value as AlarmValue).active), 10_000, 'active');
    await restartServer(); // comes back without the alarm
    await ctx.until((s) => s.some((x) => x.tag === TAG && x.meta?.inferred === true), 30_000, 'the inferred clear');
    const cleared = ctx.of(TAG).find((x) => x.meta?.inferred === true)!;
    assert.equal((cleared.value as AlarmValue).active, false);
    assert.match((cleared.value as AlarmValue).message, /no longer reported by the server/);
    await eventually(() => outbox.list().some((r) => r.event.type === 'downtime.ended'), 10_000, 'downtime ended');
    assert.deepEqual(
      outbox.list().map((r) => r.event.type),
      ['maintenance.requested', 'downtime.started', 'downtime.ended'],
    );
    await src.stop();
    await outbox.close();
  });
});
