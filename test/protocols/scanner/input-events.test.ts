import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EV_KEY,
  EV_SYN,
  InputEventReader,
  KeyboardScanDecoder,
  SYN_DROPPED,
  decodeKeyboardScans,
  encodeInputEvent,
  eventSizeForArch,
  type KeyboardDecoderOptions,
  type KeyboardScan,
} from '../../../agent/protocols/keyboard-scanner/input-events';
import { K, KeyStream } from './keyboard-stream';

const opts: KeyboardDecoderOptions = { terminator: 'enter', maxLength: 64, stripPrefix: '', stripSuffix: '' };

type Expected = string | { unreadable: RegExp; raw?: string };

interface Case {
  name: string;
  build: (k: KeyStream) => KeyStream;
  options?: Partial<KeyboardDecoderOptions>;
  expect: Expected[];
}

const cases: Case[] = [
  { name: 'upper case, digits and a dash', build: (k) => k.scan('ABC-123'), expect: ['ABC-123'] },
  { name: 'order reference with slashes', build: (k) => k.scan('WH/MO/00042'), expect: ['WH/MO/00042'] },
  { name: 'every shifted symbol', build: (k) => k.scan('!@#$%^&*()_+{}:"~|<>?'), expect: ['!@#$%^&*()_+{}:"~|<>?'] },
  { name: 'unshifted punctuation and space', build: (k) => k.scan("a-=[];'`\\,./ z"), expect: ["a-=[];'`\\,./ z"] },
  { name: 'two scans in a row', build: (k) => k.scan('ONE').scan('two'), expect: ['ONE', 'two'] },
  {
    name: 'Caps Lock inverts letters only',
    build: (k) => k.tap(K.CAPSLOCK).text('ab1').tap(K.A, K.LEFTSHIFT).enter(),
    expect: ['AB1a'],
  },
  {
    name: 'right Shift works like left Shift',
    build: (k) => k.tap(K.A, K.RIGHTSHIFT).enter(),
    expect: ['A'],
  },
  {
    name: 'GS as Ctrl+] (GS1 separator)',
    build: (k) => k.text(']d2010950600013435210AB').tap(K.RIGHTBRACE, K.LEFTCTRL).text('21X').enter(),
    expect: [']d2010950600013435210AB\u001d21X'],
  },
  {
    name: 'GS as Alt + keypad 0029',
    build: (k) => k.text('10AB').down(K.LEFTALT).tap(K.KP0).tap(K.KP0).tap(K.KP2).tap(K.KP9).up(K.LEFTALT).text('21X').enter(),
    expect: ['10AB\u001d21X'],
  },
  { name: 'keypad digits without Alt', build: (k) => k.tap(K.KP2).tap(K.KP9).tap(K.KP0).enter(), expect: ['290'] },
  { name: 'keypad Enter ends a scan', build: (k) => k.text('KP').tap(K.KPENTER), expect: ['KP'] },
  { name: 'Tab as terminator', options: { terminator: 'tab' }, build: (k) => k.text('T1').tap(K.TAB).text('T2').tap(K.TAB), expect: ['T1', 'T2'] },
  {
    name: 'Enter is not a terminator when Tab is',
    options: { terminator: 'tab' },
    build: (k) => k.text('A').enter().tap(K.TAB),
    expect: [{ unreadable: /key code 28 types no character/ }],
  },
  { name: 'lone Enter types nothing', build: (k) => k.enter().enter(), expect: [] },
  { name: 'Backspace removes the last character', build: (k) => k.text('ABX').tap(K.BACKSPACE).text('C').enter(), expect: ['ABC'] },
  {
    name: 'auto-repeat is ignored',
    build: (k) => k.down(K.A).raw(EV_KEY, K.A, 2).raw(EV_KEY, K.A, 2).up(K.A).enter(),
    expect: ['a'],
  },
  { name: 'prefix and suffix stripped', options: { stripPrefix: '*', stripSuffix: '#' }, build: (k) => k.scan('*ABC#').scan('DEF'), expect: ['ABC', 'DEF'] },
  {
    name: 'a key that types nothing makes the scan unreadable, the next scan is fine',
    build: (k) => k.text('AB').tap(K.F1).text('C').enter().scan('OK'),
    expect: [{ unreadable: /key code 59 types no character/, raw: 'AB<key 59>C' }, 'OK'],
  },
  {
    name: 'events lost by the kernel',
    build: (k) => k.text('AB').raw(EV_SYN, SYN_DROPPED, 0).syn().text('C').enter(),
    expect: [{ unreadable: /key events were lost/ }],
  },
  {
    name: 'longer than maxLength',
    options: { maxLength: 4 },
    build: (k) => k.scan('ABCDEFG').scan('OK'),
    expect: [{ unreadable: /7 characters is longer than maxLength 4/, raw: 'ABCD' }, 'OK'],
  },
  {
    name: 'Ctrl+C is a control character, not a barcode',
    build: (k) => k.text('A').tap(46, K.LEFTCTRL).enter(),
    expect: [{ unreadable: /control character 0x03/ }],
  },
];

function check(actual: KeyboardScan[], expected: Expected[]) {
  assert.equal(actual.length, expected.length, JSON.stringify(actual));
  expected.forEach((e, i) => {
    const a = actual[i]!;
    if (typeof e === 'string') {
      assert.equal(a.kind, 'scan', JSON.stringify(a));
      if (a.kind === 'scan') assert.equal(a.code, e);
    } else {
      assert.equal(a.kind, 'unreadable', JSON.stringify(a));
      if (a.kind === 'unreadable') {
        assert.match(a.reason, e.unreadable);
        if (e.raw !== undefined) assert.equal(a.raw, e.raw);
      }
    }
  });
}

describe('keyboard scanner: input events to scans', () => {
  for (const c of cases) {
    test(c.name, () => {
      const stream = c.build(new KeyStream());
      check(decodeKeyboardScans(stream.bytes(24), { ...opts, ...c.options, eventSize: 24 }), c.expect);
    });
  }

  test('32-bit records (16 bytes) decode the same', () => {
    const stream = new KeyStream().scan('Arm-32').scan('x');
    check(decodeKeyboardScans(stream.bytes(16), { ...opts, eventSize: 16 }), ['Arm-32', 'x']);
  });

  test('records split across reads', () => {
    const bytes = new KeyStream().scan('SPLIT-1').bytes(24);
    const reader = new InputEventReader(24);
    const decoder = new KeyboardScanDecoder(opts);
    const out: KeyboardScan[] = [];
    for (let i = 0; i < bytes.length; i += 7) {
      for (const ev of reader.push(bytes.subarray(i, i + 7))) {
        const s = decoder.push(ev);
        if (s) out.push(s);
      }
    }
    check(out, ['SPLIT-1']);
    assert.equal(reader.pendingBytes, 0);
  });

  test('the scan time is the kernel time of the Enter key', () => {
    const k = new KeyStream(Date.UTC(2025, 0, 2, 3, 4, 5, 600));
    k.text('T');
    const enterAt = k.timeMs;
    k.enter();
    const [scan] = decodeKeyboardScans(k.bytes(), { ...opts, eventSize: 24 });
    assert.equal(scan?.timeMs, enterAt);
  });

  test('record layout: timeval, type, code, value (little-endian)', () => {
    const b = encodeInputEvent({ timeMs: 1_700_000_000_250, type: EV_KEY, code: 30, value: 1 }, 24);
    assert.equal(b.length, 24);
    assert.equal(b.readBigInt64LE(0), 1_700_000_000n);
    assert.equal(b.readBigInt64LE(8), 250_000n);
    assert.equal(b.readUInt16LE(16), 1);
    assert.equal(b.readUInt16LE(18), 30);
    assert.equal(b.readInt32LE(20), 1);
    assert.equal(encodeInputEvent({ timeMs: 0, type: 1, code: 2, value: -1 }, 16).readInt32LE(12), -1);
  });

  test('flush of a partial scan', () => {
    const d = new KeyboardScanDecoder(opts);
    for (const ev of new KeyStream().text('PART').events) d.push(ev);
    assert.equal(d.pendingChars, 4);
    const s = d.flush('unplugged', 1);
    assert.deepEqual(s, { kind: 'unreadable', raw: 'PART', reason: 'unplugged', timeMs: 1 });
    assert.equal(d.flush('again', 2), undefined);
  });

  test('event size by architecture', () => {
    assert.equal(eventSizeForArch('x64'), 24);
    assert.equal(eventSizeForArch('arm64'), 24);
    assert.equal(eventSizeForArch('arm'), 16);
    assert.equal(eventSizeForArch('ia32'), 16);
  });
});
