import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KeyboardScannerAdapter } from '../../../agent/protocols/keyboard-scanner/adapter';
import { keyboardScannerConfigSchema, type KeyboardScannerInput } from '../../../agent/protocols/keyboard-scanner/config';
import { hasPython3, recordingContext, until } from './helpers';
import { KeyStream } from './keyboard-stream';

/**
 * The keyboard scanner adapter end to end: the python3 reader process, the
 * event decoding, unplug and replug. There is no /dev/uinput on build
 * machines (no virtual keyboard can be made), so a FIFO stands in for
 * /dev/input/eventN and the test writes the kernel's event records into it.
 * A FIFO cannot be grabbed: the grab is off here, except in the test that
 * checks a failed grab is reported.
 */

const PYTHON = hasPython3();
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyboard-scanner-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
}

function config(path: string, extra: Partial<KeyboardScannerInput> = {}) {
  return keyboardScannerConfigSchema.parse({
    type: 'keyboard-scanner',
    name: 'kbd-1',
    path,
    grab: false,
    reopen: { initialMs: 50, maxMs: 200 },
    watchIntervalMs: 100,
    ...extra,
  });
}

/** Open the FIFO for writing (completes when the reader process has opened it). */
function plugIn(path: string): Promise<FileHandle> {
  return open(path, 'w');
}

describe('keyboard scanner adapter (FIFO standing in for the input device)', () => {
  test('scans typed by the scanner become signals; unplug and replug are followed', async (t) => {
    if (!PYTHON) return t.skip('python3 not installed');
    const fifo = join(dir, 'usb-Scanner-event-kbd');
    mkfifo(fifo);
    const rec = recordingContext(dir);
    const adapter = new KeyboardScannerAdapter(config(fifo), rec.ctx);
    let writer: FileHandle | undefined;
    try {
      await adapter.start();
      writer = await plugIn(fifo);
      await until(() => adapter.health().connected, 'reader ready');

      const k = new KeyStream(Date.now() - 2000);
      k.scan('WH/MO/00042');
      const bytes = k.bytes(24);
      // Written in uneven pieces, as reads may split records.
      await writer.write(bytes.subarray(0, 50));
      await writer.write(bytes.subarray(50));
      await writer.write(new KeyStream().text(']d201').tap(27, 29).text('10AB').enter().bytes(24));
      await until(() => rec.signals.length === 2, 'two scans');
      assert.deepEqual(rec.codes(), ['WH/MO/00042', ']d201\u001d10AB']);
      const first = rec.signals[0]!;
      assert.equal(first.tag, 'scan');
      assert.equal(first.source, 'kbd-1');
      assert.deepEqual(first.meta, { port: fifo });
      // The kernel's time of the Enter key is the scan time when it is plausible.
      assert.equal(Date.parse(first.sourceTime), k.timeMs - 2);

      // Unplug: the writer goes away and the device node disappears.
      await writer.close();
      writer = undefined;
      unlinkSync(fifo);
      await until(() => !adapter.health().connected, 'adapter notices the unplug');
      await until(() => adapter.health().details?.waitingForDevice === true, 'waiting for the device');

      // Plug back in.
      mkfifo(fifo);
      writer = await plugIn(fifo);
      await until(() => adapter.health().connected, 'reader ready again');
      await writer.write(new KeyStream().scan('AFTER-REPLUG').bytes(24));
      await until(() => rec.signals.length === 3, 'scan after replug');
      assert.equal(rec.signals[2]!.value, 'AFTER-REPLUG');
      const d = adapter.health().details!;
      assert.equal(d.opens, 2);
      assert.ok((d.disconnects as number) >= 1);
    } finally {
      await writer?.close();
      await adapter.stop();
    }
  });

  test('a scan cut off by the unplug is kept as unreadable', async (t) => {
    if (!PYTHON) return t.skip('python3 not installed');
    const fifo = join(dir, 'cut-event-kbd');
    mkfifo(fifo);
    const rec = recordingContext(dir);
    const adapter = new KeyboardScannerAdapter(config(fifo), rec.ctx);
    let writer: FileHandle | undefined;
    try {
      await adapter.start();
      writer = await plugIn(fifo);
      await until(() => adapter.health().connected, 'reader ready');
      await writer.write(new KeyStream().text('HALF').bytes(24));
      await until(() => adapter.health().lastDataAt !== null, 'data read');
      await writer.close();
      writer = undefined;
      await until(() => rec.rejected.length === 1, 'partial scan kept');
      assert.equal(rec.rejected[0]!.raw, 'HALF');
      assert.equal(rec.rejected[0]!.encoding, 'utf8');
      assert.match(rec.rejected[0]!.reason, /disconnected in the middle of a scan/);
      assert.deepEqual(rec.signals, []);
    } finally {
      await writer?.close();
      await adapter.stop();
    }
  });

  test('grab on something that is not an input device is reported (the ioctl really runs)', async (t) => {
    if (!PYTHON) return t.skip('python3 not installed');
    const fifo = join(dir, 'grab-event-kbd');
    mkfifo(fifo);
    const rec = recordingContext(dir);
    const adapter = new KeyboardScannerAdapter(config(fifo, { grab: true }), rec.ctx);
    let writer: FileHandle | undefined;
    try {
      await adapter.start();
      writer = await plugIn(fifo);
      await until(() => adapter.health().lastError?.code === 'SCANNER_GRAB_FAILED', 'grab failure reported');
      assert.match(adapter.health().lastError!.message, /cannot grab the input device/);
      assert.equal(adapter.health().connected, false);
    } finally {
      await adapter.stop();
      await writer?.close().catch(() => undefined);
    }
  });

  test('missing python3 is reported and retried', async () => {
    const fifo = join(dir, 'nopython-event-kbd');
    mkfifo(fifo);
    const rec = recordingContext(dir);
    const adapter = new KeyboardScannerAdapter(config(fifo, { python: join(dir, 'no-python-here') }), rec.ctx);
    try {
      await adapter.start();
      await until(() => adapter.health().lastError?.code === 'PYTHON_MISSING', 'missing python reported');
      await until(() => (adapter.health().details?.openFailures as number) >= 2, 'retried');
    } finally {
      await adapter.stop();
    }
  });

  test('stop ends the reader process and is safe twice', async (t) => {
    if (!PYTHON) return t.skip('python3 not installed');
    const fifo = join(dir, 'stop-event-kbd');
    mkfifo(fifo);
    const rec = recordingContext(dir);
    const adapter = new KeyboardScannerAdapter(config(fifo), rec.ctx);
    await adapter.start();
    const writer = await plugIn(fifo);
    await until(() => adapter.health().connected, 'reader ready');
    await adapter.stop();
    await adapter.stop();
    assert.equal(adapter.health().connected, false);
    // The reader is gone: writing to the FIFO now fails (no reader left).
    await assert.rejects(async () => {
      for (let i = 0; i < 100; i++) {
        await writer.write(Buffer.alloc(24));
        await new Promise((r) => setTimeout(r, 10));
      }
    }, /EPIPE/);
    await writer.close().catch(() => undefined);
  });
});

describe('keyboard scanner config', () => {
  test('defaults and strictness', () => {
    const c = keyboardScannerConfigSchema.parse({ type: 'keyboard-scanner', name: 'k', path: '/dev/input/by-id/usb-X-event-kbd' });
    assert.equal(c.grab, true);
    assert.equal(c.terminator, 'enter');
    assert.equal(c.layout, 'us');
    assert.equal(c.eventSize, process.arch === 'x64' || process.arch === 'arm64' ? 24 : 16);
    assert.equal(c.python, 'python3');
    for (const bad of [{ layout: 'de' }, { eventSize: 20 }, { terminator: 'space' }, { grabbed: true }]) {
      assert.equal(keyboardScannerConfigSchema.safeParse({ type: 'keyboard-scanner', name: 'k', path: '/dev/x', ...bad }).success, false, JSON.stringify(bad));
    }
  });
});
