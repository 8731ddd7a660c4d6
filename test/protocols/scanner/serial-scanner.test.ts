import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SerialScannerAdapter } from '../../../agent/protocols/serial-scanner/adapter';
import { serialScannerConfigSchema, type SerialScannerInput } from '../../../agent/protocols/serial-scanner/config';
import { PtyPair, hasSocat, recordingContext, until } from './helpers';

const SOCAT = hasSocat();
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'serial-scanner-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function config(path: string, extra: Partial<SerialScannerInput> = {}) {
  return serialScannerConfigSchema.parse({
    type: 'serial-scanner',
    name: 'scanner-1',
    path,
    reopen: { initialMs: 50, maxMs: 200 },
    watchIntervalMs: 100,
    ...extra,
  });
}

let pairNo = 0;
function pair(): PtyPair {
  pairNo++;
  return new PtyPair(join(dir, `scanner${pairNo}`), join(dir, `agent${pairNo}`));
}

/** Run `body` with a started pair and adapter; always stops both. */
async function withScanner(
  extra: Partial<SerialScannerInput>,
  body: (p: PtyPair, a: SerialScannerAdapter, rec: ReturnType<typeof recordingContext>) => Promise<void>,
) {
  const p = pair();
  await p.start();
  const rec = recordingContext(dir);
  const adapter = new SerialScannerAdapter(config(p.agentLink, extra), rec.ctx);
  try {
    await adapter.start();
    await until(() => adapter.health().connected, 'port open');
    await body(p, adapter, rec);
  } finally {
    await adapter.stop();
    await p.kill();
  }
}

describe('serial scanner over a pseudo-terminal pair', () => {
  test('one signal per CR-terminated scan', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    await withScanner({}, async (p, adapter, rec) => {
      p.write('WH/MO/00042\r');
      p.write(']d20109506000134352\u001d10LOT-1\r4006381333931\r');
      await until(() => rec.signals.length === 3, 'three scans');
      assert.deepEqual(rec.codes(), ['WH/MO/00042', ']d20109506000134352\u001d10LOT-1', '4006381333931']);
      const s = rec.signals[1]!;
      assert.equal(s.source, 'scanner-1');
      assert.equal(s.tag, 'scan');
      assert.equal(s.quality, 'good');
      assert.deepEqual(s.meta, { port: p.agentLink, symbology: ']d2' });
      assert.ok(Date.parse(s.sourceTime) > Date.parse(rec.signals[0]!.sourceTime), 'scan times strictly increase');
      const h = adapter.health();
      assert.equal(h.connected, true);
      assert.equal(h.details?.scans, 3);
      assert.notEqual(h.lastDataAt, null);
    });
  });

  test('same label twice in one burst stays two scans with distinct times', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    await withScanner({}, async (p, _adapter, rec) => {
      p.write('SAME\rSAME\r');
      await until(() => rec.signals.length === 2, 'two scans');
      assert.notEqual(rec.signals[0]!.sourceTime, rec.signals[1]!.sourceTime);
    });
  });

  test('CRLF framing with prefix and suffix stripped', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    await withScanner({ framing: { suffix: 'CRLF' }, stripPrefix: '\u0002', stripSuffix: '\u0003' }, async (p, _a, rec) => {
      p.write('\u0002ABC\u0003\r\n');
      p.write('DEF\r\n\u0002GHI\u0003\r\n');
      await until(() => rec.signals.length === 3, 'three scans');
      assert.deepEqual(rec.codes(), ['ABC', 'DEF', 'GHI']);
    });
  });

  test('fixed-length framing', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    await withScanner({ framing: { fixedLength: 6 } }, async (p, _a, rec) => {
      p.write('ABC123DEF');
      p.write('456');
      await until(() => rec.signals.length === 2, 'two scans');
      assert.deepEqual(rec.codes(), ['ABC123', 'DEF456']);
    });
  });

  test('custom terminator', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    await withScanner({ framing: { suffix: '\t' } }, async (p, _a, rec) => {
      p.write('A1\tB2\t');
      await until(() => rec.signals.length === 2, 'two scans');
      assert.deepEqual(rec.codes(), ['A1', 'B2']);
    });
  });

  test('binary garbage and over-long frames are kept as invalid input with raw base64', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    await withScanner({ maxLength: 8 }, async (p, adapter, rec) => {
      p.write(Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x0d]));
      p.write('0123456789ABCDEF\rOK\r');
      await until(() => rec.rejected.length === 2 && rec.signals.length === 1, 'two rejects and one scan');
      assert.deepEqual(rec.codes(), ['OK']);
      const [garbage, long] = rec.rejected;
      assert.equal(garbage!.encoding, 'base64');
      assert.equal(Buffer.from(garbage!.raw, 'base64').toString('hex'), 'fffe0081');
      assert.match(garbage!.reason, /not text/);
      assert.equal(garbage!.origin, p.agentLink);
      assert.equal(garbage!.source, 'scanner-1');
      assert.match(long!.reason, /16 bytes is longer than maxLength 8/);
      assert.equal(Buffer.from(long!.raw, 'base64').toString(), '01234567');
      assert.equal(adapter.health().details?.unreadable, 2);
    });
  });

  test('a scan cut short is kept as unreadable after frameTimeoutMs', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    await withScanner({ frameTimeoutMs: 200 }, async (p, _a, rec) => {
      p.write('HALF');
      await until(() => rec.rejected.length === 1, 'incomplete scan rejected');
      assert.match(rec.rejected[0]!.reason, /no end of scan within frameTimeoutMs 200/);
      p.write('WHOLE\r');
      await until(() => rec.signals.length === 1, 'next scan');
      assert.deepEqual(rec.codes(), ['WHOLE']);
    });
  });

  test('unplug: socat killed, started again with the same names -> the adapter reopens and reads new scans', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    const p = pair();
    await p.start();
    const rec = recordingContext(dir);
    const adapter = new SerialScannerAdapter(config(p.agentLink), rec.ctx);
    try {
      await adapter.start();
      await until(() => adapter.health().connected, 'port open');
      p.write('BEFORE\r');
      await until(() => rec.signals.length === 1, 'first scan');

      await p.kill();
      await until(() => !adapter.health().connected, 'adapter notices the unplug');
      assert.equal(adapter.health().lastError?.code !== undefined, true);

      await new Promise((r) => setTimeout(r, 300)); // unplugged for a while: reopen attempts find nothing
      assert.equal(adapter.health().connected, false);

      await p.start();
      await until(() => adapter.health().connected, 'adapter reopens the port');
      p.write('AFTER\r');
      await until(() => rec.signals.length === 2, 'scan after replug');
      assert.deepEqual(rec.codes(), ['BEFORE', 'AFTER']);
      const d = adapter.health().details!;
      assert.equal(d.opens, 2);
      assert.ok((d.disconnects as number) >= 1);
    } finally {
      await adapter.stop();
      await p.kill();
    }
  });

  test('device path re-pointed to another device without any close: the watch reopens on the new one', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    const first = pair();
    const second = pair();
    await first.start();
    await second.start();
    const byId = join(dir, 'by-id-scanner');
    symlinkSync(readlinkSync(first.agentLink), byId);
    const rec = recordingContext(dir);
    const adapter = new SerialScannerAdapter(config(byId), rec.ctx);
    try {
      await adapter.start();
      await until(() => adapter.health().connected, 'port open');
      first.write('ONE\r');
      await until(() => rec.signals.length === 1, 'scan on the first device');

      // The link vanishes (the old pty is still alive, so the port sees nothing).
      unlinkSync(byId);
      await until(() => !adapter.health().connected, 'adapter notices the missing path');
      await until(() => adapter.health().details?.waitingForDevice === true, 'adapter waits for the device');
      assert.match(adapter.health().lastError?.message ?? '', /does not exist/);

      // ... and comes back pointing at another device, as udev does on replug.
      const tmp = `${byId}.new`;
      symlinkSync(readlinkSync(second.agentLink), tmp);
      renameSync(tmp, byId);
      await until(() => adapter.health().connected, 'adapter opens the new device');
      assert.equal(adapter.health().details?.device, readlinkSync(second.agentLink));
      second.write('TWO\r');
      await until(() => rec.signals.length === 2, 'scan on the second device');

      // Re-pointed while open, no disappearance in between.
      const opensBefore = adapter.health().details!.opens as number;
      const tmp2 = `${byId}.again`;
      symlinkSync(readlinkSync(first.agentLink), tmp2);
      renameSync(tmp2, byId);
      await until(() => adapter.health().details?.device === readlinkSync(first.agentLink), 'adapter follows the link');
      // The open on the new device has completed (a scan during the open itself may be lost, as on a real port).
      await until(() => (adapter.health().details!.opens as number) > opensBefore && adapter.health().connected, 'the new device is open');
      first.write('THREE\r');
      await until(() => rec.signals.length === 3, 'scan after the switch');
      assert.deepEqual(rec.codes(), ['ONE', 'TWO', 'THREE']);
    } finally {
      await adapter.stop();
      await first.kill();
      await second.kill();
    }
  });

  test('scanner absent at start: waits, opens when it appears', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    const p = pair();
    const rec = recordingContext(dir);
    const adapter = new SerialScannerAdapter(config(p.agentLink), rec.ctx);
    try {
      await adapter.start();
      await until(() => adapter.health().details?.waitingForDevice === true, 'waiting for the device');
      assert.equal(adapter.health().lastError?.code, 'SCANNER_ABSENT');
      await p.start();
      await until(() => adapter.health().connected, 'opens when plugged in');
      p.write('HELLO\r');
      await until(() => rec.signals.length === 1, 'scan');
    } finally {
      await adapter.stop();
      await p.kill();
    }
  });

  test('outbox full: scans are held in order, health shows paused and queued, then all are delivered', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    await withScanner({ queueLimit: 2 }, async (p, adapter, rec) => {
      rec.control.full = true;
      p.write('S1\rS2\rS3\r');
      await until(() => adapter.health().details?.paused === true && adapter.health().details?.queued === 3, 'paused with three queued');
      assert.equal(adapter.health().details?.readingPaused, true);
      p.write('S4\r'); // read later: the port is paused, the pty holds it
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(rec.signals, []);
      rec.control.full = false;
      await until(() => rec.signals.length === 4, 'all four delivered');
      assert.deepEqual(rec.codes(), ['S1', 'S2', 'S3', 'S4']);
      assert.ok(rec.control.refusals >= 1);
      const d = adapter.health().details!;
      assert.equal(d.paused, false);
      assert.equal(d.queued, 0);
      assert.equal(d.readingPaused, false);
    });
  });

  test('stop is safe twice and after a failed start; start again works', async (t) => {
    if (!SOCAT) return t.skip('socat not installed');
    const rec = recordingContext(dir);
    const lonely = new SerialScannerAdapter(config(join(dir, 'no-such-device')), rec.ctx);
    await lonely.start();
    await lonely.start();
    await lonely.stop();
    await lonely.stop();

    await withScanner({}, async (p, adapter, r2) => {
      await adapter.stop();
      assert.equal(adapter.health().connected, false);
      await adapter.start();
      await until(() => adapter.health().connected, 'reopened after restart');
      p.write('AGAIN\r');
      await until(() => r2.signals.length === 1, 'scan after restart');
    });
  });
});

describe('serial scanner config', () => {
  test('defaults and strictness', () => {
    const c = serialScannerConfigSchema.parse({ type: 'serial-scanner', name: 's', path: '/dev/serial/by-id/usb-X' });
    assert.equal(c.baudRate, 9600);
    assert.equal(c.dataBits, 8);
    assert.equal(c.parity, 'none');
    assert.equal(c.stopBits, 1);
    assert.deepEqual(c.framing, { suffix: 'CR' });
    assert.deepEqual(c.reopen, { initialMs: 500, maxMs: 30000 });
    assert.equal(c.enabled, true);
    for (const bad of [
      { baud: 9600 },
      { framing: { suffix: 'CR', fixedLength: 3 } },
      { framing: { fixedLength: 2000 } },
      { dataBits: 9 },
      { reopen: { initialMs: 1000, maxMs: 200 } },
      { parity: 'weird' },
    ]) {
      assert.equal(serialScannerConfigSchema.safeParse({ type: 'serial-scanner', name: 's', path: '/dev/x', ...bad }).success, false, JSON.stringify(bad));
    }
  });
});
