import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModbusAdapter } from '../../../agent/protocols/modbus/adapter';
import type { Signal } from '../../../agent/model/signal';
import { WORD_FIXTURES } from './fixtures';
import { outbox, tcpConfig as config } from './helpers';
import { ModbusPeer, waitFor } from './modbus-peer';

type DeviceDetail = { unitId: number; status: string; exceptionCode: number | null; exception: string | null; consecutiveTimeouts: number; reads: number };
const devicesOf = (a: ModbusAdapter) => (a.health().details as { devices: DeviceDetail[] }).devices;
const device = (a: ModbusAdapter, unitId: number) => devicesOf(a).find((d) => d.unitId === unitId)!;
const last = (signals: Signal[], tag: string) => [...signals].reverse().find((s) => s.tag === tag);

describe('modbus adapter over TCP (modbus-serial ServerTCP on 127.0.0.1)', () => {
  const peer = new ModbusPeer();
  let port = 0;
  before(async () => {
    port = await peer.start();
  });
  after(async () => {
    await peer.stop();
  });

  it('reads every type in every word order, in few requests, and sends only changes', async () => {
    // The fixtures side by side from address 100, one device.
    let address = 100;
    const registers: Array<Record<string, unknown> & { tag: string }> = WORD_FIXTURES.map((f, i) => {
      const r = { tag: `t${i}`, area: 'holding', address, type: f.type, wordOrder: f.wordOrder, bit: f.bit, length: f.length };
      peer.set(1, 'holding', address, f.words);
      address += f.words.length;
      return r;
    });
    peer.set(1, 'coil', 5, true);
    peer.set(1, 'discrete', 7, false);
    peer.set(1, 'input', 3, [0x0102]);
    registers.push(
      { tag: 'run', area: 'coil', address: 5 },
      { tag: 'door', area: 'discrete', address: 7 },
      { tag: 'temp', area: 'input', address: 3, type: 'int16', scale: 0.1 },
    );
    const before = peer.requestCount(1);
    const out = outbox();
    const adapter = new ModbusAdapter(config(port, [{ unitId: 1, timeoutMs: 500, groups: [{ intervalMs: 30, registers }] }]), out.ctx);
    try {
      await adapter.start();
      await waitFor(() => registers.every((r) => last(out.accepted, r.tag)), 5000, 'a signal for every register');
      WORD_FIXTURES.forEach((f, i) => {
        const s = last(out.accepted, `t${i}`)!;
        assert.deepEqual([s.value, s.quality], [f.expected, 'good'], f.name);
      });
      assert.equal(last(out.accepted, 'run')!.value, true);
      assert.equal(last(out.accepted, 'door')!.value, false);
      assert.equal(last(out.accepted, 'temp')!.value, 25.8);
      const s0 = last(out.accepted, 't0')!;
      assert.equal(s0.source, 'line-1');
      assert.deepEqual(s0.meta, { unitId: 1, area: 'holding', address: 100 });
      assert.ok(!Number.isNaN(Date.parse(s0.sourceTime)));

      // Several polls later nothing unchanged was sent twice.
      const reads = () => (adapter.health().details as { reads: number }).reads;
      const r0 = reads();
      await waitFor(() => reads() >= r0 + 9, 5000, 'three more polls');
      for (const r of registers) assert.equal(out.accepted.filter((s) => s.tag === r.tag).length, 1, r.tag);
      // One poll reads all holding registers in ceil(n/125) requests, plus one request each for the
      // input register, the coil and the discrete input (the server counts register requests only).
      const holdingWords = address - 100;
      const holdingReads = Math.ceil(holdingWords / 125);
      const polls = Math.floor(reads() / (holdingReads + 3));
      const registerRequests = peer.requestCount(1) - before;
      assert.ok(
        registerRequests >= polls * (holdingReads + 1) && registerRequests <= (polls + 1) * (holdingReads + 1),
        `${registerRequests} register requests for ${polls} polls of ${registers.length} values`,
      );

      // A change on the device becomes one new signal.
      peer.set(1, 'holding', 100, [0x42c8, 0x0000]); // float32 100
      await waitFor(() => last(out.accepted, 't0')!.value === 100, 3000, 'the changed value');
      assert.equal(out.accepted.filter((s) => s.tag === 't0').length, 2);

      const h = adapter.health();
      assert.equal(h.connected, true);
      assert.ok(h.lastDataAt);
      assert.equal(device(adapter, 1).status, 'ok');
    } finally {
      await adapter.stop();
    }
  });

  it('reports Modbus exceptions by their code, and a refused joined read does not hide its neighbours', async () => {
    peer.set(2, 'holding', 0, [11]);
    peer.set(2, 'holding', 6, [66]); // 1..5 do not exist: a joined read 0..6 is refused with exception 2
    peer.failingUnits.set(3, 4); // unit 3 answers everything with exception 4
    const out = outbox();
    const adapter = new ModbusAdapter(
      config(port, [
        {
          unitId: 2,
          timeoutMs: 500,
          groups: [
            {
              intervalMs: 30,
              registers: [
                { tag: 'good-a', area: 'holding', address: 0 },
                { tag: 'missing', area: 'holding', address: 3 },
                { tag: 'good-b', area: 'holding', address: 6 },
              ],
            },
          ],
        },
        { unitId: 3, timeoutMs: 500, groups: [{ intervalMs: 30, registers: [{ tag: 'broken', area: 'holding', address: 0 }] }] },
      ]),
      out.ctx,
    );
    try {
      await adapter.start();
      await waitFor(() => ['good-a', 'good-b', 'missing', 'broken'].every((t) => last(out.accepted, t)), 5000, 'signals for all four tags');
      assert.equal(last(out.accepted, 'good-a')!.value, 11);
      assert.equal(last(out.accepted, 'good-b')!.value, 66);
      const missing = last(out.accepted, 'missing')!;
      assert.deepEqual([missing.value, missing.quality, missing.meta?.exceptionCode], [null, 'bad', 2]);
      await waitFor(() => device(adapter, 3).status === 'exception', 2000, 'unit 3 in exception');
      assert.deepEqual(
        [device(adapter, 3).status, device(adapter, 3).exceptionCode, device(adapter, 3).exception, device(adapter, 3).consecutiveTimeouts],
        ['exception', 4, 'server device failure', 0],
      );
      assert.deepEqual([device(adapter, 2).exceptionCode], [2]);
      assert.equal(adapter.health().lastError?.code, 'MODBUS_EXCEPTION');
      assert.match(adapter.health().lastError!.message, /exception (2|4) \((illegal data address|server device failure)\)/);
      // A bad value is reported once, not at every poll.
      const r0 = (adapter.health().details as { reads: number }).reads;
      await waitFor(() => (adapter.health().details as { reads: number }).reads >= r0 + 6, 3000, 'more polls');
      assert.equal(out.accepted.filter((s) => s.tag === 'missing').length, 1);
      assert.equal(out.accepted.filter((s) => s.tag === 'broken').length, 1);
    } finally {
      await adapter.stop();
      peer.failingUnits.clear();
    }
  });

  it('a unit that never answers costs the others at most its own timeout, and is polled less and less', async () => {
    peer.set(4, 'holding', 0, [1]);
    peer.set(9, 'holding', 0, [9]);
    peer.silentUnits.add(9);
    const out = outbox();
    const deadTimeout = 300;
    const adapter = new ModbusAdapter(
      config(
        port,
        [
          { unitId: 4, timeoutMs: 1000, groups: [{ intervalMs: 50, registers: [{ tag: 'alive', area: 'holding', address: 0 }] }] },
          { unitId: 9, name: 'dead-scale', timeoutMs: deadTimeout, groups: [{ intervalMs: 50, registers: [{ tag: 'dead', area: 'holding', address: 0 }] }] },
        ],
        { emitUnchanged: true, backoff: { initialMs: 300, maxMs: 5000 } },
      ),
      out.ctx,
    );
    const deadBefore = peer.requestCount(9);
    try {
      await adapter.start();
      const started = Date.now();
      await new Promise((r) => setTimeout(r, 2500));
      const alive = out.accepted.filter((s) => s.tag === 'alive').map((s) => Date.parse(s.sourceTime));
      const gaps = alive.slice(1).map((t, i) => t - alive[i]!);
      const worst = Math.max(...gaps, alive[0]! - started);
      // Interval 50 ms + one dead timeout of 300 ms + generous slack for a busy machine.
      assert.ok(worst <= 50 + deadTimeout + 450, `longest wait between reads of the live unit: ${worst} ms`);
      // Without backoff the dead unit would be asked ~7 times in 2.5 s (300 ms timeout + 50 ms); with it, ~3.
      const deadAsked = peer.requestCount(9) - deadBefore;
      assert.ok(deadAsked >= 2 && deadAsked <= 4, `requests to the dead unit: ${deadAsked}`);
      const dead = device(adapter, 9);
      assert.equal(dead.status, 'timeout');
      assert.ok(dead.consecutiveTimeouts >= 2);
      assert.equal(device(adapter, 4).status, 'ok');
      const badDead = out.accepted.filter((s) => s.tag === 'dead');
      assert.ok(badDead.length >= 1 && badDead.every((s) => s.quality === 'bad' && s.meta?.error === 'timeout'));
      assert.equal(adapter.health().connected, true);
      assert.equal((adapter.health().details as { reconnects: number }).reconnects, 0, 'a dead unit behind a live connection does not drop it');
    } finally {
      await adapter.stop();
      peer.silentUnits.clear();
    }
  });

  it('reconnects by itself when the server goes away and comes back', async () => {
    peer.set(5, 'holding', 0, [500]);
    const out = outbox();
    const adapter = new ModbusAdapter(
      config(port, [{ unitId: 5, timeoutMs: 300, groups: [{ intervalMs: 30, registers: [{ tag: 'counter', area: 'holding', address: 0 }] }] }]),
      out.ctx,
    );
    try {
      await adapter.start();
      await waitFor(() => last(out.accepted, 'counter')?.value === 500, 3000, 'the first value');
      await peer.stop();
      await waitFor(() => !adapter.health().connected, 3000, 'the adapter to notice');
      // The loss, or already the refused reconnect attempt that followed it.
      assert.match(adapter.health().lastError?.code ?? '', /^(MODBUS_CONNECTION_LOST|ECONNREFUSED)$/);
      await new Promise((r) => setTimeout(r, 300)); // a few failed attempts while the server is down
      peer.set(5, 'holding', 0, [501]);
      await peer.start(port);
      await waitFor(() => last(out.accepted, 'counter')?.value === 501, 5000, 'a value read after the restart');
      const d = adapter.health().details as { reconnects: number };
      assert.equal(adapter.health().connected, true);
      assert.ok(d.reconnects >= 1);
      assert.equal(peer.connectionCount(), 1, 'exactly one connection: the old ones are gone');
    } finally {
      await adapter.stop();
      if (!peer.running) await peer.start(port); // the next tests need it
    }
    await waitFor(() => peer.connectionCount() === 0, 2000, 'stop() to close the connection');
  });

  it('starts while the device is unreachable, and stop() is safe in every state', async () => {
    const down = new ModbusPeer();
    const downPort = await down.start();
    await down.stop(); // a port nobody listens on now
    const out = outbox();
    const adapter = new ModbusAdapter(config(downPort, [{ unitId: 1, groups: [{ registers: [{ tag: 'x', area: 'holding', address: 0 }] }] }]), out.ctx);
    await adapter.stop(); // before start
    await adapter.start();
    await adapter.start(); // again: no second loop
    await waitFor(() => adapter.health().lastError !== null, 3000, 'a connection failure');
    assert.equal(adapter.health().connected, false);
    await adapter.stop();
    await adapter.stop();
    assert.equal(out.calls(), 0);
  });

  it('back-pressure: a full outbox pauses the group, keeps its values and delivers them when it accepts again', async () => {
    peer.set(6, 'holding', 0, [1, 2]);
    let refusing = true;
    const out = outbox(() => refusing);
    const adapter = new ModbusAdapter(
      config(
        port,
        [
          {
            unitId: 6,
            timeoutMs: 300,
            groups: [
              {
                name: 'counters',
                intervalMs: 20,
                registers: [
                  { tag: 'good', area: 'holding', address: 0 },
                  { tag: 'scrap', area: 'holding', address: 1 },
                ],
              },
            ],
          },
        ],
        { backoff: { initialMs: 40, maxMs: 80 } },
      ),
      out.ctx,
    );
    try {
      await adapter.start();
      await waitFor(() => out.calls() >= 3, 3000, 'three refused hand-overs');
      const h = adapter.health();
      const details = h.details as { paused: boolean; pausedGroups: Array<{ group: string; reason: string; pendingSignals: number }> };
      assert.equal(details.paused, true);
      assert.deepEqual(details.pausedGroups, [{ group: 'unit6/counters', reason: 'OUTBOX_FULL', pendingSignals: 2 }]);
      assert.equal(h.lastError?.code, 'OUTBOX_FULL');
      // Paused: the group is not polled.
      const asked = peer.requestCount(6);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(peer.requestCount(6), asked, 'no reads while paused');
      // The device changes meanwhile; then the outbox has room again.
      peer.set(6, 'holding', 0, [7]);
      refusing = false;
      await waitFor(() => last(out.accepted, 'good')?.value === 7, 3000, 'the latest value');
      assert.deepEqual(
        out.accepted.map((s) => [s.tag, s.value]),
        [
          ['good', 1],
          ['scrap', 2],
          ['good', 7],
        ],
        'the held values first, then the new one; nothing lost, nothing twice',
      );
      assert.equal((adapter.health().details as { paused: boolean }).paused, false);
    } finally {
      await adapter.stop();
    }
  });
});
