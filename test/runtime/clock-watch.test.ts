import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ClockWatch, SOURCE_WINDOW_MS } from '../../agent/runtime/clock-watch';
import type { Signal } from '../../agent/model/signal';
import { ServerClock } from '../../agent/odoo/server-clock';

const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** A signal from `source` whose clock reads `offsetMs` ahead, arriving `delayMs` after it was stamped. */
function reading(source: string, tag: string, at: number, offsetMs: number, delayMs = 20): Signal {
  return { source, tag, value: 1, quality: 'good', sourceTime: iso(at - delayMs + offsetMs), receivedAt: iso(at) };
}

/** A logger that keeps its lines. */
function recordingLog() {
  const lines: Array<{ level: number; msg: string; clock?: string }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { log, lines };
}

describe('clock watch: sources', () => {
  it("a source's offset is its newest reading's lead over its arrival, and a slow delivery does not count against it", () => {
    const w = new ClockWatch({ warnOffsetMs: 5000 });
    w.observe(reading('plc1', 'a', T0, 2000, 20));
    w.observe(reading('plc1', 'b', T0 + 1000, 2000, 900)); // delivered late
    const [r] = w.readings();
    assert.equal(r?.name, 'plc1');
    assert.equal(r?.kind, 'source');
    assert.equal(r?.offsetMs, 1980);
    assert.equal(r?.warning, false);
  });

  it('the signals of one message share their times; two sources interleaved keep their own offsets', () => {
    const w = new ClockWatch({ warnOffsetMs: 5000 });
    // One message of 50 metrics from each source, read alternately (the same two texts again and again).
    const a = Array.from({ length: 50 }, (_, k) => reading('sparkplug', `n1/m${k}`, T0, 3000, 20));
    const b = Array.from({ length: 50 }, (_, k) => reading('plc2', `t${k}`, T0 + 500, -1500, 40));
    for (let k = 0; k < 50; k++) {
      w.observe(a[k]!);
      w.observe(b[k]!);
    }
    // A later message of the first source, its clock now 1 s further ahead.
    w.observe(reading('sparkplug', 'n1/m0', T0 + 2000, 4000, 20));
    const by = new Map(w.readings().map((r) => [r.name, r]));
    assert.equal(by.get('sparkplug')?.offsetMs, 3980);
    assert.equal(by.get('sparkplug')?.samples, 51);
    assert.equal(by.get('plc2')?.offsetMs, -1540);
    assert.equal(by.get('plc2')?.samples, 50);
  });

  it('a value sent again with its old time stamp (on reconnect) says nothing about the clock', () => {
    const w = new ClockWatch({ warnOffsetMs: 5000 });
    w.observe(reading('plc1', 'a', T0, 0));
    const stale = { ...reading('plc1', 'a', T0, 0), receivedAt: iso(T0 + 3_600_000) };
    w.observe(stale);
    assert.equal(w.readings()[0]?.offsetMs, -20);
  });

  it('sources stamped by the gateway are listed apart, with no offset', () => {
    const w = new ClockWatch({ warnOffsetMs: 5000 });
    w.observe({ source: 'scale', tag: 't', value: 1, quality: 'good', sourceTime: iso(T0), receivedAt: iso(T0) });
    assert.deepEqual(w.readings(), []);
    assert.deepEqual(w.gatewayStamped(), ['scale']);
  });

  it('a clock that steps shows its new offset within two windows: the old one is forgotten', () => {
    const w = new ClockWatch({ warnOffsetMs: 5000 });
    w.observe(reading('plc1', 'a', T0, 10_000));
    assert.equal(w.readings()[0]?.offsetMs, 9980);
    w.observe(reading('plc1', 'a', T0 + SOURCE_WINDOW_MS, 0));
    assert.equal(w.readings()[0]?.offsetMs, 9980, 'the window before still counts');
    w.observe(reading('plc1', 'a', T0 + 2 * SOURCE_WINDOW_MS, 0));
    assert.equal(w.readings()[0]?.offsetMs, -20);
  });

  it('warns once when a clock crosses the threshold, once when it is back, and not while it hovers', () => {
    const { log, lines } = recordingLog();
    const w = new ClockWatch({ warnOffsetMs: 5000 }, log);
    let t = T0;
    const at = (offset: number) => {
      t += 2 * SOURCE_WINDOW_MS; // a new window each time: the estimate is the new offset
      w.observe(reading('plc1', 'a', t, offset, 0));
      return w.readings()[0]!.warning;
    };
    assert.deepEqual([at(1000), at(6000), at(6000), at(4500), at(5500), at(3000), w.readings()[0]!.warning], [false, true, true, true, true, false, false]);
    const warns = lines.filter((l) => l.level === 40);
    const backs = lines.filter((l) => l.level === 30);
    assert.equal(warns.length, 1);
    assert.match(warns[0]!.msg, /the clock of source plc1 is 6 s ahead of this gateway's, past the 5 s allowed \(clocks.warnOffsetS\)/);
    assert.equal(backs.length, 1);
    assert.match(backs[0]!.msg, /within the threshold again/);
  });
});

describe('clock watch: Odoo', () => {
  it("Odoo's offset from the Date headers, with its uncertainty; a warning only beyond it", () => {
    const odoo = new ServerClock();
    // Odoo is 8 s ahead: its Date header (whole seconds) for requests that took 100 ms.
    for (let i = 0; i < 5; i++) {
      const sent = T0 + i * 1370;
      odoo.add(new Date(Math.floor((sent + 50 + 8000) / 1000) * 1000).toUTCString(), sent, sent + 100);
    }
    const w = new ClockWatch({ warnOffsetMs: 5000 });
    w.observeOdoo(odoo.estimate());
    const [r] = w.readings();
    assert.equal(r?.name, 'odoo');
    assert.ok(Math.abs(r!.offsetMs - 8000) <= r!.uncertaintyMs, JSON.stringify(r));
    assert.ok(r!.uncertaintyMs < 600);
    assert.equal(r?.warning, true);
  });
});
