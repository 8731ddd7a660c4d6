import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Signal } from '../../agent/model/signal';
import { at, engineOf, feed } from './helpers';

/**
 * A clock that steps back (the source's or the gateway's) must not make a
 * rule drop a real change: readings are taken in the order they arrive, the
 * source time is only the time of the fact. Each case feeds readings as
 * [value, source time, arrival time] in seconds after T0.
 */

type Reading = [value: Signal['value'], source: number, arrival: number];

function signals(tag: string, readings: Reading[]): Signal[] {
  return readings.map(([value, source, arrival]) => ({ source: 'plc1', tag, value, quality: 'good', sourceTime: at(source), receivedAt: at(arrival) }));
}

const secs = (iso: string) => (Date.parse(iso) - Date.parse(at(0))) / 1000;

const stateRule = {
  kind: 'state',
  name: 'press1-state',
  source: 'plc1',
  tag: 'Press1.State',
  workcenter: 'Press 1',
  runningCodes: [1],
  codes: { '3': { reason: 'Material Availability' } },
};

function downtime(events: Array<{ type: string; occurredAt: string; payload: unknown }>): string[] {
  return events.map((e) => {
    const p = e.payload as { startedAt?: string };
    return `${e.type.replace('downtime.', '')}@${secs(e.occurredAt)}${p.startedAt ? ` from ${secs(p.startedAt)}` : ''}`;
  });
}

describe('clock steps back: state rule (downtime)', () => {
  it("a stop after the source's clock stepped back an hour is reported (it was dropped)", () => {
    const r = feed(
      engineOf([stateRule]),
      signals('Press1.State', [
        [1, 7000, 7000],
        [3, 7100, 7100],
        [1, 7200, 7200],
        [3, 3610, 7210], // the PLC's clock went back one hour
        [1, 3670, 7270],
      ]),
    );
    assert.deepEqual(downtime(r.events), ['started@7100', 'ended@7200 from 7100', 'started@3610', 'ended@3670 from 3610']);
  });

  it("a stop during which the source's clock stepped back lasts the time between arrivals, never ends before it starts", () => {
    const r = feed(
      engineOf([stateRule]),
      signals('Press1.State', [
        [1, 7200, 7200],
        [3, 7210, 7210],
        [1, 3690, 7290], // the end, stamped an hour back, arrived 80 s after the start
      ]),
    );
    assert.deepEqual(downtime(r.events), ['started@7210', 'ended@7290 from 7210']);
  });

  it("a stop during which the gateway's clock stepped back (it stamps both times) is kept, with no duration", () => {
    const r = feed(
      engineOf([stateRule]),
      signals('Press1.State', [
        [1, 7200, 7200],
        [3, 7210, 7210],
        [1, 3690, 3690],
      ]),
    );
    assert.deepEqual(downtime(r.events), ['started@7210', 'ended@7210 from 7210']);
  });

  it('minDuration is measured by arrival when the clock stepped back', () => {
    const r = feed(
      engineOf([{ ...stateRule, minDuration: 30 }]),
      signals('Press1.State', [
        [1, 7200, 7200],
        [3, 7210, 7210],
        [3, 3650, 7250], // still stopped, 40 s later by arrival
        [1, 3700, 7300],
      ]),
    );
    assert.deepEqual(downtime(r.events), ['started@7210', 'ended@7300 from 7210']);
  });

  it('the same reading again (a replay on reconnect) changes nothing, also when older than the last', () => {
    const r = feed(
      engineOf([stateRule]),
      signals('Press1.State', [
        [1, 0, 0],
        [3, 10, 10],
        [1, 20, 20],
        [3, 10, 30], // replayed
        [1, 20, 31], // replayed
      ]),
    );
    assert.deepEqual(downtime(r.events), ['started@10', 'ended@20 from 10']);
  });
});

describe('clock steps back: counter rule', () => {
  const counter = { kind: 'counter', name: 'press1-count', source: 'plc1', tag: 'Press1.Count', production: 'WH/MO/00042' };

  it("totals keep rising after the source's clock stepped back (they froze until it caught up)", () => {
    const r = feed(
      engineOf([counter]),
      signals('Press1.Count', [
        [100, 7200, 7200],
        [105, 7260, 7260],
        [110, 3670, 7270], // an hour back
        [112, 3680, 7280],
      ]),
    );
    assert.deepEqual(
      r.events.map((e) => [(e.payload as { totalQuantity: number }).totalQuantity, secs(e.occurredAt)]),
      [
        [5, 7260],
        [10, 3670],
        [12, 3680],
      ],
    );
    assert.equal(new Set(r.events.map((e) => e.id)).size, 3);
  });

  it("after the gateway's clock stepped back (Modbus: it stamps the readings)", () => {
    const r = feed(
      engineOf([counter]),
      signals('Press1.Count', [
        [0, 7200, 7200],
        [4, 7201, 7201],
        [9, 3602, 3602],
      ]),
    );
    assert.deepEqual(
      r.events.map((e) => (e.payload as { totalQuantity: number }).totalQuantity),
      [4, 9],
    );
  });

  it('the ids are the same when the same readings come again in a fresh engine', () => {
    const readings = signals('Press1.Count', [
      [100, 7200, 7200],
      [105, 7260, 7260],
      [110, 3670, 7270],
    ]);
    const a = feed(engineOf([counter]), readings).events.map((e) => e.id);
    const b = feed(engineOf([counter]), readings).events.map((e) => e.id);
    assert.deepEqual(a, b);
  });
});

describe('clock steps back: threshold, order and capture rules', () => {
  it('threshold: a value beyond the limit after a step back still asks for maintenance', () => {
    const rule = { kind: 'threshold', name: 'oven-temp', source: 'plc1', tag: 'Oven.Temp', equipment: 'Oven 1', above: 200, hysteresis: 10 };
    const r = feed(
      engineOf([rule]),
      signals('Oven.Temp', [
        [150, 7200, 7200],
        [250, 7210, 7210],
        [150, 3620, 7220], // re-arms after the step back
        [260, 3630, 7230],
      ]),
    );
    assert.deepEqual(
      r.events.map((e) => secs(e.occurredAt)),
      [7210, 3630],
    );
  });

  it('order: a new order after a step back is taken', () => {
    const rule = { kind: 'order', name: 'press1-order', source: 'plc1', tag: 'Press1.Order', workcenter: 'Press 1', emitStarted: true };
    const engine = engineOf([rule]);
    const r = feed(
      engine,
      signals('Press1.Order', [
        ['A', 7200, 7200],
        ['B', 3610, 7210],
      ]),
    );
    assert.equal(engine.fact('workcenter:Press 1:production'), 'B');
    assert.deepEqual(
      r.events.map((e) => `${(e.payload as { production: string }).production}@${secs(e.occurredAt)}`),
      ['A@7200', 'B@3610'],
    );
  });

  it('order: the same order change again (a replay) changes nothing', () => {
    const rule = { kind: 'order', name: 'press1-order', source: 'plc1', tag: 'Press1.Order', workcenter: 'Press 1', emitStarted: true };
    const engine = engineOf([rule]);
    const r = feed(
      engine,
      signals('Press1.Order', [
        ['A', 10, 10],
        ['B', 20, 20],
        ['A', 10, 30],
      ]),
    );
    assert.equal(engine.fact('workcenter:Press 1:production'), 'B');
    assert.equal(r.events.length, 2);
  });

  it('capture: a trigger after a step back fires with the latest values to arrive', () => {
    const rule = {
      kind: 'capture',
      name: 'press1-cycle',
      source: 'plc1',
      tag: 'Press1.CycleDone',
      edge: 'rising',
      tags: { order: 'Press1.Order', good: 'Press1.Good' },
      event: 'production.reported',
      fields: { production: '{{tags.order}}', totalQuantity: '{{tags.good}}', workcenter: 'Press 1' },
    };
    const byArrival = [
      ...signals('Press1.Order', [['A', 7200, 7200]]),
      ...signals('Press1.Good', [
        [9, 7205, 7205],
        [10, 3610, 7210],
      ]),
      ...signals('Press1.CycleDone', [
        [false, 7200, 7200],
        [true, 7206, 7206],
        [false, 3611, 7211],
        [true, 3612, 7212],
      ]),
    ].sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt));
    const r = feed(engineOf([rule]), byArrival);
    assert.deepEqual(
      r.events.map((e) => `${(e.payload as { totalQuantity: number }).totalQuantity}@${secs(e.occurredAt)}`),
      ['9@7206', '10@3612'],
    );
  });
});
