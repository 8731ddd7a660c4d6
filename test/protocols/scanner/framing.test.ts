import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameDecoder, type Frame, type FrameDecoderOptions } from '../../../agent/protocols/serial-scanner/framing';

const base: FrameDecoderOptions = { framing: { suffix: 'CR' }, stripPrefix: '', stripSuffix: '', maxLength: 32 };

type Expected = string | { unreadable: RegExp; raw?: string };

interface Case {
  name: string;
  options?: Partial<FrameDecoderOptions>;
  /** Chunks as the port delivers them. */
  chunks: Array<string | Buffer>;
  expect: Expected[];
  /** Flush at the end (device lost) and expect these too. */
  flush?: Expected[];
}

const cases: Case[] = [
  { name: 'CR terminated', chunks: ['ABC\rDEF\r'], expect: ['ABC', 'DEF'] },
  { name: 'scan split over chunks', chunks: ['AB', 'C\rD', 'EF\r'], expect: ['ABC', 'DEF'] },
  { name: 'CRLF sent, CR framing: LF is ignored', chunks: ['ABC\r\nDEF\r\n'], expect: ['ABC', 'DEF'] },
  { name: 'CRLF framing', options: { framing: { suffix: 'CRLF' } }, chunks: ['ABC\r', '\nDEF\r\n'], expect: ['ABC', 'DEF'] },
  { name: 'LF framing', options: { framing: { suffix: 'LF' } }, chunks: ['ABC\nDEF\n'], expect: ['ABC', 'DEF'] },
  { name: 'custom terminator (ETX)', options: { framing: { suffix: '\u0003' } }, chunks: ['ABC\u0003DEF\u0003'], expect: ['ABC', 'DEF'] },
  { name: 'multi-character terminator split over chunks', options: { framing: { suffix: '##' } }, chunks: ['ABC#', '#DEF#', '#'], expect: ['ABC', 'DEF'] },
  { name: 'fixed length', options: { framing: { fixedLength: 4 } }, chunks: ['ABCDEF', 'GH12', '34'], expect: ['ABCD', 'EFGH', '1234'] },
  { name: 'empty frames ignored', chunks: ['\r\r\nABC\r\r'], expect: ['ABC'] },
  {
    name: 'prefix and suffix stripped when present',
    options: { stripPrefix: '\u0002', stripSuffix: '!' },
    chunks: ['\u0002ABC!\rDEF\r\u0002GHI\r'],
    expect: ['ABC', 'DEF', 'GHI'],
  },
  { name: 'GS of a GS1 code is kept', chunks: [']d2010950600013435210AB\u001d21X\r'], expect: [']d2010950600013435210AB\u001d21X'] },
  { name: 'UTF-8 text', chunks: [Buffer.from('Größe\r', 'utf8')], expect: ['Größe'] },
  {
    name: 'binary garbage (wrong baud rate)',
    chunks: [Buffer.from([0xff, 0xfe, 0x80, 0x0d])],
    expect: [{ unreadable: /not text \(binary data/, raw: '//6A' }],
  },
  {
    name: 'control character in a scan',
    chunks: ['AB\u0007C\rOK\r'],
    expect: [{ unreadable: /control character 0x07 at position 2/ }, 'OK'],
  },
  {
    name: 'too long, terminator in the same chunk',
    options: { maxLength: 5 },
    chunks: ['ABCDEFGH\rOK\r'],
    expect: [{ unreadable: /8 bytes is longer than maxLength 5/, raw: Buffer.from('ABCDE').toString('base64') }, 'OK'],
  },
  {
    name: 'too long over many chunks: memory stays bounded, scan after it is read',
    options: { maxLength: 5 },
    chunks: ['ABCDEFGH', 'IJKLMNOP', 'QRST\rOK\r'],
    expect: [{ unreadable: /20 bytes is longer than maxLength 5/, raw: Buffer.from('ABCDE').toString('base64') }, 'OK'],
  },
  {
    name: 'partial scan when the device goes away',
    chunks: ['ABC\rDE'],
    expect: ['ABC'],
    flush: [{ unreadable: /disconnected \(2 bytes without the end of the scan\)/, raw: Buffer.from('DE').toString('base64') }],
  },
  { name: 'nothing but CR/LF pending is not a partial scan', chunks: ['ABC\r\n'], expect: ['ABC'], flush: [] },
];

function check(actual: Frame[], expected: Expected[]) {
  assert.equal(actual.length, expected.length, `frames: ${JSON.stringify(actual.map((f) => (f.kind === 'scan' ? f.code : f.reason)))}`);
  expected.forEach((e, i) => {
    const f = actual[i]!;
    if (typeof e === 'string') {
      assert.equal(f.kind, 'scan', f.kind === 'unreadable' ? f.reason : '');
      if (f.kind === 'scan') assert.equal(f.code, e);
    } else {
      assert.equal(f.kind, 'unreadable');
      if (f.kind === 'unreadable') {
        assert.match(f.reason, e.unreadable);
        if (e.raw !== undefined) assert.equal(f.raw.toString('base64'), e.raw);
      }
    }
  });
}

describe('serial scanner framing', () => {
  for (const c of cases) {
    test(c.name, () => {
      const d = new FrameDecoder({ ...base, ...c.options });
      const frames: Frame[] = [];
      for (const chunk of c.chunks) frames.push(...d.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk));
      check(frames, c.expect);
      if (c.flush) check(d.flush('disconnected'), c.flush);
    });
  }

  test('a byte at a time gives the same scans', () => {
    const d = new FrameDecoder({ ...base, framing: { suffix: 'CRLF' } });
    const out: Frame[] = [];
    for (const b of Buffer.from('ABC\r\nDEF\r\n')) out.push(...d.push(Buffer.from([b])));
    check(out, ['ABC', 'DEF']);
    assert.equal(d.pendingBytes, 0);
  });
});
