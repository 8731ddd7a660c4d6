import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { MqttClient } from 'mqtt';
import { devicesList } from '../../../agent/http/page';
import type { Signal } from '../../../agent/model/signal';
import type { MqttSourceAdapter } from '../../../agent/protocols/mqtt/adapter';
import { sparkplugSourceSchema, type SparkplugSourceInput } from '../../../agent/protocols/sparkplug/config';
import { createSparkplugSource } from '../../../agent/protocols/sparkplug/kind';
import { RuleEngine } from '../../../agent/rules/engine';
import { dropSession, startBroker, uniqueClientId, type TestBroker } from '../../helpers/broker';
import { endClient, recordingContext, sleep, testClient, waitFor, type RecordingContext } from '../mqtt/support';
import { EdgeNodeSim, encode } from './edge-node';

let broker: TestBroker;
const sessions: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => {
  broker = await startBroker();
  process.stdout.write(`# MQTT broker for these tests: ${broker.kind} at ${broker.url}\n`);
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const id of sessions) await dropSession(broker.url, id);
  await broker.close();
});

/** A group id no other test on this broker uses. */
const uniqueGroup = (name: string) => `t-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

async function source(group: string, ctx: RecordingContext, extra: Partial<SparkplugSourceInput> = {}): Promise<MqttSourceAdapter> {
  const clientId = uniqueClientId('sp');
  sessions.push(clientId);
  const config = sparkplugSourceSchema.parse({
    type: 'sparkplug',
    name: 'uns',
    url: broker.url,
    clientId,
    groups: [group],
    retryMinMs: 20,
    retryMaxMs: 100,
    ...extra,
  });
  const adapter = createSparkplugSource(config, ctx, 'plant-a');
  cleanups.push(async () => {
    await adapter.stop();
    ctx.dispose();
  });
  await adapter.start();
  await waitFor('source connected', () => adapter.health().connected);
  await sleep(100); // SUBACK
  return adapter;
}

async function edgeNode(group: string, node: string): Promise<EdgeNodeSim> {
  const sim = new EdgeNodeSim(broker.url, group, node);
  cleanups.push(() => sim.end());
  await sim.connect(0);
  return sim;
}

const byTag = (signals: Signal[], tag: string) => signals.filter((s) => s.tag === tag);
const last = (signals: Signal[], tag: string) => byTag(signals, tag).at(-1);

describe('Sparkplug B source against a real broker, edge node encoded with Eclipse Tahu', () => {
  test('birth and data by alias: 64-bit, float, string, boolean metrics become signals with their data type and the payload time', async () => {
    const g = uniqueGroup('alias');
    const ctx = recordingContext();
    const adapter = await source(g, ctx);
    const sim = await edgeNode(g, 'press1');
    const birthAt = Date.UTC(2026, 0, 5, 8, 0, 0);
    await sim.birth(
      0,
      [
        { name: 'Temperature', alias: 1, type: 'Float', value: 21.5 },
        { name: 'Counter', alias: 2, type: 'Int64', value: 1234 },
        { name: 'Serial', alias: 3, type: 'UInt64', value: '18446744073709551615' as never },
        { name: 'Drift', alias: 4, type: 'Int64', value: '-9007199254740993' as never },
        { name: 'Recipe', alias: 5, type: 'String', value: 'R-42' },
        { name: 'Running', alias: 6, type: 'Boolean', value: true },
        { name: 'Offset', alias: 7, type: 'Int8', value: -3 },
        { name: 'Energy', alias: 8, type: 'Double', value: 1.0000000001 },
        { name: 'Shots', alias: 9, type: 'UInt32', value: 4_000_000_000 },
      ],
      birthAt,
    );
    const dataAt = birthAt + 60_000;
    await sim.data(
      [
        { alias: 1, type: 'Float', value: 22.25 },
        { alias: 2, type: 'Int64', value: 1235 },
        { alias: 5, type: 'String', value: 'R-43' },
        { alias: 6, type: 'Boolean', value: false },
      ],
      { timestamp: dataAt },
    );
    const p = `${g}/press1`;
    await waitFor('the NDATA signals', () => byTag(ctx.signals, `${p}/Running`).length === 2);
    assert.equal(last(ctx.signals, `${p}/$online`)!.value, true);
    const birth = (tag: string) => byTag(ctx.signals, `${p}/${tag}`)[0]!;
    assert.equal(birth('Temperature').value, 21.5);
    assert.equal(birth('Temperature').meta!.datatype, 'Float');
    assert.equal(birth('Counter').value, 1234);
    assert.equal(birth('Serial').value, '18446744073709551615', 'UInt64 beyond 2^53 is exact decimal text');
    assert.equal(birth('Serial').meta!.datatype, 'UInt64');
    assert.equal(birth('Drift').value, '-9007199254740993');
    assert.equal(birth('Offset').value, -3);
    assert.equal(birth('Energy').value, 1.0000000001);
    assert.equal(birth('Shots').value, 4_000_000_000);
    assert.equal(birth('bdSeq').value, 0);
    assert.equal(birth('Temperature').sourceTime, new Date(birthAt).toISOString());
    // NDATA by alias only: names come from the birth.
    assert.equal(last(ctx.signals, `${p}/Temperature`)!.value, 22.25);
    assert.equal(last(ctx.signals, `${p}/Counter`)!.value, 1235);
    assert.equal(last(ctx.signals, `${p}/Recipe`)!.value, 'R-43');
    assert.equal(last(ctx.signals, `${p}/Running`)!.value, false);
    assert.equal(last(ctx.signals, `${p}/Running`)!.sourceTime, new Date(dataAt).toISOString());
    assert.ok(ctx.signals.every((s) => s.source === 'uns' && s.quality === 'good'));
    assert.equal(ctx.rejects.length, 0);
    await waitFor('both messages acknowledged', () => adapter.health().details!.acked === 2);
    assert.equal(sim.commands.length, 0, 'no rebirth asked');
  });

  test('a sequence gap asks for a rebirth on NCMD (once within rebirthIntervalS), and the rebirth brings the node back', async () => {
    const g = uniqueGroup('gap');
    const ctx = recordingContext();
    const adapter = await source(g, ctx, { rebirthIntervalS: 60 });
    const sim = await edgeNode(g, 'n1');
    await sim.birth(0, [{ name: 'Speed', alias: 1, type: 'Int32', value: 10 }]);
    await sim.data([{ alias: 1, type: 'Int32', value: 11 }]); // seq 1
    await sim.data([{ alias: 1, type: 'Int32', value: 12 }], { seq: 5 }); // gap: 2..4 lost
    await waitFor('a rebirth request', () => sim.commands.length === 1);
    const cmd = sim.commands[0]!;
    assert.equal(cmd.metrics![0]!.name, 'Node Control/Rebirth');
    assert.equal(cmd.metrics![0]!.value, true);
    assert.equal(cmd.metrics![0]!.type, 'Boolean');
    // The data of the message after the gap is still taken (its aliases are known).
    await waitFor('value 12', () => last(ctx.signals, `${g}/n1/Speed`)?.value === 12);
    await sim.data([{ alias: 1, type: 'Int32', value: 13 }], { seq: 9 }); // another gap, inside the interval
    await waitFor('value 13', () => last(ctx.signals, `${g}/n1/Speed`)?.value === 13);
    assert.equal(adapter.health().details!.rebirthsHeldBack, 1);
    // The node answers with a new birth (new aliases) and goes on from seq 0.
    await sim.birth(0, [{ name: 'Speed', alias: 7, type: 'Int32', value: 20 }]);
    await sim.data([{ alias: 7, type: 'Int32', value: 21 }]);
    await waitFor('value 21', () => last(ctx.signals, `${g}/n1/Speed`)?.value === 21);
    await sleep(100);
    assert.equal(sim.commands.length, 1);
    assert.equal(adapter.health().details!.rebirthRequests, 1);
    assert.equal(ctx.rejects.length, 0);
  });

  test('data before the birth is kept as invalid input and asks for a rebirth; an unknown alias too', async () => {
    const g = uniqueGroup('early');
    const ctx = recordingContext();
    await source(g, ctx, { rebirthIntervalS: 0.1 });
    const sim = await edgeNode(g, 'n2');
    await sim.data([{ alias: 1, type: 'Int32', value: 1 }], { seq: 17 });
    await waitFor('a rebirth request', () => sim.commands.length === 1);
    await waitFor('invalid input', () => ctx.rejects.length === 1);
    assert.match(ctx.rejects[0]!.reason, /NDATA from .*\/n2 before its NBIRTH/);
    assert.equal(ctx.rejects[0]!.encoding, 'base64');
    assert.equal(ctx.rejects[0]!.origin, `spBv1.0/${g}/NDATA/n2`);
    await sim.birth(0, [{ name: 'A', alias: 1, type: 'Int32', value: 1 }]);
    await sleep(150); // past rebirthIntervalS
    await sim.data([
      { alias: 1, type: 'Int32', value: 2 },
      { alias: 99, type: 'Int32', value: 3 },
    ]);
    await waitFor('second invalid input', () => ctx.rejects.length === 2);
    assert.match(ctx.rejects[1]!.reason, /metric alias 99 is not in the birth/);
    assert.equal(last(ctx.signals, `${g}/n2/A`)!.value, 2, 'the known metric of the same message is taken');
    await waitFor('a second rebirth request', () => sim.commands.length === 2);
  });

  test('a death with the birth bdSeq marks the node and its devices stale (last values, quality bad) and starts a downtime through a state rule; a stale bdSeq is ignored', async () => {
    const g = uniqueGroup('death');
    const ctx = recordingContext();
    const adapter = await source(g, ctx);
    const sim = await edgeNode(g, 'line3');
    await sim.birth(5, [{ name: 'Temp', alias: 1, type: 'Float', value: 40 }]);
    await sim.deviceBirth('press', [{ name: 'Strokes', alias: 2, type: 'UInt32', value: 7 }]);
    await sim.deviceData('press', [{ alias: 2, type: 'UInt32', value: 8 }]);
    const p = `${g}/line3`;
    await waitFor('device data', () => last(ctx.signals, `${p}/press/Strokes`)?.value === 8);
    assert.equal(last(ctx.signals, `${p}/press/$online`)!.value, true);
    // A death of an earlier session (bdSeq 4): ignored.
    const before = ctx.signals.length;
    await sim.death(4);
    await waitFor('the stale death counted', () => adapter.health().details!.staleDeaths === 1);
    assert.equal(ctx.signals.length, before);
    assert.equal(adapter.health().devices!.find((d) => d.name === p)!.state, 'online');
    // The real death.
    await sim.death(5);
    await waitFor('$online false', () => last(ctx.signals, `${p}/$online`)?.value === false);
    const temp = last(ctx.signals, `${p}/Temp`)!;
    assert.equal(temp.value, 40);
    assert.equal(temp.quality, 'bad');
    assert.equal(temp.meta!.stale, true);
    const strokes = last(ctx.signals, `${p}/press/Strokes`)!;
    assert.equal(strokes.value, 8);
    assert.equal(strokes.quality, 'bad');
    assert.equal(last(ctx.signals, `${p}/press/$online`)!.value, false);
    assert.equal(last(ctx.signals, `${p}/$online`)!.quality, 'good');
    const health = adapter.health().devices!;
    const node = health.find((d) => d.name === p)!;
    assert.equal(node.state, 'stale');
    assert.equal(node.bdSeq, '5');
    assert.deepEqual(
      node.values.find((v) => v.metric === `${p}/Temp`),
      { metric: `${p}/Temp`, value: 40, quality: 'bad', at: node.values.find((v) => v.metric === `${p}/Temp`)!.at },
    );
    assert.equal(health.find((d) => d.name === `${p}/press`)!.state, 'stale');
    // The status page shows the node stale, its last value kept with quality bad.
    const html = devicesList(health, Date.now());
    assert.match(html, new RegExp(`data-device="${p}" data-state="stale"`));
    assert.match(html, new RegExp(`<tr data-quality="bad"><td>${p}/Temp</td><td><code>40</code></td><td>bad</td></tr>`));

    // The same signals through a state rule: the death is a stop of the work center, the rebirth its end.
    const engine = RuleEngine.fromConfig([
      { kind: 'state', name: 'line3-online', source: 'uns', tag: `${p}/$online`, workcenter: 'Line 3', edge: 'falling', reason: 'Equipment Failure' },
    ]);
    const r = engine.process(ctx.signals, { plant: 'plant-a', now: new Date().toISOString() });
    assert.deepEqual(
      r.events.map((e) => e.type),
      ['downtime.started'],
    );
    await sim.birth(6, [{ name: 'Temp', alias: 1, type: 'Float', value: 41 }]);
    await waitFor('back online', () => last(ctx.signals, `${p}/$online`)?.value === true);
    const again = engine.process(ctx.signals.slice(-3), { plant: 'plant-a', now: new Date().toISOString() });
    assert.deepEqual(
      again.events.map((e) => e.type),
      ['downtime.ended'],
    );
    assert.equal(adapter.health().devices!.find((d) => d.name === p)!.state, 'online');
  });

  test('after a restart on a resumed session, what the broker queued is read with the saved births; without the session, the node is asked for a rebirth', async () => {
    const g = uniqueGroup('restart');
    const ctx = recordingContext();
    const clientId = uniqueClientId('sp-restart');
    sessions.push(clientId);
    const config = sparkplugSourceSchema.parse({ type: 'sparkplug', name: 'uns', url: broker.url, clientId, groups: [g], retryMinMs: 20, retryMaxMs: 100 });
    const run = async () => {
      const adapter = createSparkplugSource(config, ctx, 'plant-a');
      await adapter.start();
      await waitFor('source connected', () => adapter.health().connected);
      await sleep(100); // SUBACK
      return adapter;
    };
    let adapter = await run();
    const sim = await edgeNode(g, 'press4');
    await sim.birth(3, [
      { name: 'Strokes', alias: 1, type: 'UInt32', value: 100 },
      { name: 'Mode', alias: 2, type: 'String', value: 'auto' },
    ]);
    await sim.deviceBirth('die', [{ name: 'Temp', alias: 3, type: 'Float', value: 60 }]);
    await sim.data([{ alias: 1, type: 'UInt32', value: 101 }]);
    await waitFor('data before the restart', () => last(ctx.signals, `${g}/press4/Strokes`)?.value === 101);
    await adapter.stop();

    // While the agent is down, the node goes on; the broker queues it for the kept session.
    await sim.data([{ alias: 1, type: 'UInt32', value: 102 }]);
    await sim.deviceData('die', [{ alias: 3, type: 'Float', value: 61.5 }]);
    await sim.data([
      { alias: 1, type: 'UInt32', value: 103 },
      { alias: 2, type: 'String', value: 'manual' },
    ]);
    adapter = await run();
    await waitFor('the queued data read by alias', () => last(ctx.signals, `${g}/press4/Mode`)?.value === 'manual');
    assert.deepEqual(
      byTag(ctx.signals, `${g}/press4/Strokes`).map((x) => x.value),
      [100, 101, 102, 103],
    );
    assert.equal(last(ctx.signals, `${g}/press4/die/Temp`)!.value, 61.5);
    assert.equal(ctx.rejects.length, 0, 'nothing kept as invalid input');
    await sleep(100);
    assert.equal(sim.commands.length, 0, 'no rebirth was needed');
    const details = adapter.health().details!;
    assert.equal(details.birthsRestored, 1);
    assert.equal(details.rebirthRequests, 0);
    // The sequence is checked again from the first message on.
    await sim.data([{ alias: 1, type: 'UInt32', value: 104 }], { seq: 200 });
    await waitFor('a rebirth for the gap', () => sim.commands.length === 1);
    await adapter.stop();

    // The broker loses the session: the saved births are not trusted, the node is asked for a rebirth.
    await dropSession(broker.url, clientId);
    adapter = await run();
    await sim.data([{ alias: 1, type: 'UInt32', value: 105 }]);
    await waitFor('invalid input', () => ctx.rejects.length === 1);
    assert.match(ctx.rejects[0]!.reason, /before its NBIRTH/);
    await waitFor('a rebirth request', () => sim.commands.length === 2);
    assert.equal(adapter.health().details!.birthsRestored, 0);
    await adapter.stop();
  });

  test('saved births that cannot be read are left aside with a warning; the node is asked for a rebirth', async () => {
    const g = uniqueGroup('badfile');
    const ctx = recordingContext();
    const lines: Array<{ msg: string; file?: string }> = [];
    ctx.log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    mkdirSync(join(ctx.stateDir, 'sparkplug'), { recursive: true });
    writeFileSync(join(ctx.stateDir, 'sparkplug', 'uns.births.json'), '{"version":1,"births":[{"group":7}]}');
    const adapter = await source(g, ctx);
    const sim = await edgeNode(g, 'n9');
    await sim.data([{ alias: 1, type: 'Int32', value: 1 }], { seq: 4 });
    await waitFor('a rebirth request', () => sim.commands.length === 1);
    assert.equal(adapter.health().details!.birthsRestored, 0);
    const warned = lines.find((l) => /saved births are not usable/.test(l.msg));
    assert.ok(warned, 'a warning names the file');
    assert.equal(warned.file, join(ctx.stateDir, 'sparkplug', 'uns.births.json'));
  });

  test('an invalid payload is kept as invalid input with the reason and acknowledged; nothing crashes', async () => {
    const g = uniqueGroup('junk');
    const ctx = recordingContext();
    const adapter = await source(g, ctx);
    const sim = await edgeNode(g, 'n4');
    await sim.raw(`spBv1.0/${g}/NDATA/n4`, Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    await sim.raw(`spBv1.0/${g}/NBIRTH/n4`, encode({ timestamp: Date.now(), seq: 0, metrics: [{ alias: 1, type: 'Int32', value: 1 }] }));
    await waitFor('two invalid inputs', () => ctx.rejects.length === 2);
    assert.match(ctx.rejects[0]!.reason, /not a Sparkplug B payload \(protobuf: /);
    assert.equal(Buffer.from(ctx.rejects[0]!.raw, 'base64').toString('hex'), '0affffff');
    assert.match(ctx.rejects[1]!.reason, /a metric of the NBIRTH has no name/);
    await waitFor('both acknowledged', () => adapter.health().details!.acked === 2);
    assert.equal(adapter.health().connected, true);
  });

  test('templates are spread into member signals, data sets and property sets decoded; a PropertySet metric is refused with the reason', async () => {
    const g = uniqueGroup('complex');
    const ctx = recordingContext();
    await source(g, ctx);
    const sim = await edgeNode(g, 'n5');
    await sim.birth(0, [
      { name: 'Motor', type: 'Template', value: { templateRef: 'MotorType', isDefinition: true, metrics: [{ name: 'Rpm', type: 'Int32', value: 0 }] } },
      {
        name: 'Motor1',
        alias: 10,
        type: 'Template',
        value: {
          templateRef: 'MotorType',
          parameters: [{ name: 'Rated', type: 'Int32', value: 1500 }],
          metrics: [
            { name: 'Rpm', type: 'Int32', value: 1450 },
            { name: 'Ok', type: 'Boolean', value: true },
          ],
        },
      },
      {
        name: 'Batch',
        alias: 11,
        type: 'DataSet',
        value: {
          numOfColumns: 2,
          columns: ['lot', 'qty'],
          types: ['String', 'Int32'],
          rows: [
            ['L-1', 5],
            ['L-2', 7],
          ],
        },
      },
      {
        name: 'Pressure',
        alias: 12,
        type: 'Double',
        value: 3.5,
        properties: { engUnit: { type: 'String', value: 'bar' }, Quality: { type: 'Int32', value: 64 } },
      },
      { name: 'Props', alias: 13, type: 'PropertySet', value: { a: { type: 'Int32', value: 1 } } },
    ]);
    const p = `${g}/n5`;
    await waitFor('invalid input for the PropertySet metric', () => ctx.rejects.length === 1);
    assert.match(ctx.rejects[0]!.reason, /Props: a metric of data type PropertySet has no value field/);
    assert.equal(last(ctx.signals, `${p}/Motor1/Rpm`)!.value, 1450);
    assert.equal(last(ctx.signals, `${p}/Motor1/Ok`)!.value, true);
    assert.equal(last(ctx.signals, `${p}/Motor1/Rpm`)!.meta!.template, 'MotorType');
    assert.deepEqual(last(ctx.signals, `${p}/Motor1/Rpm`)!.meta!.parameters, { Rated: 1500 });
    assert.equal(byTag(ctx.signals, `${p}/Motor`).length, 0, 'a template definition is not a reading');
    assert.deepEqual(last(ctx.signals, `${p}/Batch`)!.value, {
      columns: ['lot', 'qty'],
      types: ['String', 'Int32'],
      rows: [
        { lot: 'L-1', qty: 5 },
        { lot: 'L-2', qty: 7 },
      ],
    });
    const pressure = last(ctx.signals, `${p}/Pressure`)!;
    assert.deepEqual(pressure.meta!.properties, { engUnit: 'bar', Quality: 64 });
    assert.equal(pressure.quality, 'uncertain');
    // NDATA of the template instance by alias.
    await sim.data([{ alias: 10, type: 'Template', value: { templateRef: 'MotorType', metrics: [{ name: 'Rpm', type: 'Int32', value: 1490 }] } }]);
    await waitFor('template member by alias', () => last(ctx.signals, `${p}/Motor1/Rpm`)?.value === 1490);
  });

  test('as primary host: STATE online retained after subscribing, offline on stop (Sparkplug 3.0 JSON, same timestamp)', async () => {
    const g = uniqueGroup('state');
    const hostId = `agent-${g}`;
    const ctx = recordingContext();
    const adapter = await source(g, ctx, { primaryHostId: hostId });
    const watcher: MqttClient = await testClient(broker.url, uniqueClientId('state-watch'));
    const seen: Array<{ online: boolean; timestamp: number }> = [];
    watcher.on('message', (_t, payload) => payload.length > 0 && seen.push(JSON.parse(payload.toString()) as { online: boolean; timestamp: number }));
    await watcher.subscribeAsync(`spBv1.0/STATE/${hostId}`, { qos: 1 });
    await waitFor('online STATE', () => seen.some((s) => s.online));
    await adapter.stop();
    await waitFor('offline STATE', () => seen.at(-1)?.online === false);
    assert.equal(seen.at(-1)!.timestamp, seen.find((s) => s.online)!.timestamp);
    // Clear the retained message.
    await watcher.publishAsync(`spBv1.0/STATE/${hostId}`, '', { qos: 1, retain: true });
    await endClient(watcher);
  });
});
