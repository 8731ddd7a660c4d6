import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePayload, rawPayload } from '../../../agent/protocols/mqtt/decode';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('MQTT payload decoding', () => {
  const ok: Array<[name: string, payload: Buffer, format: 'json' | 'text', value: unknown]> = [
    ['JSON object', b('{"order":"WH/MO/00042","qty":5}'), 'json', { order: 'WH/MO/00042', qty: 5 }],
    ['JSON number', b('17.25'), 'json', 17.25],
    ['JSON string', b('"LOT-7"'), 'json', 'LOT-7'],
    ['JSON true', b('true'), 'json', true],
    ['JSON null', b('null'), 'json', null],
    ['JSON array', b('[1,2]'), 'json', [1, 2]],
    ['JSON with a byte order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b('{"a":1}')]), 'json', { a: 1 }],
    ['JSON with spaces around', b('  {"a":1}\n'), 'json', { a: 1 }],
    ['text as sent', b('  LOT 42 '), 'text', '  LOT 42 '],
    ['text that looks like JSON stays text', b('{"a":1}'), 'text', '{"a":1}'],
    ['empty text', b(''), 'text', ''],
    ['UTF-8 text', b('Prüfung bestanden'), 'text', 'Prüfung bestanden'],
  ];
  for (const [name, payload, format, value] of ok) {
    test(`${format}: ${name}`, () => {
      assert.deepEqual(decodePayload(payload, format), { ok: true, value });
    });
  }

  const bad: Array<[name: string, payload: Buffer, format: 'json' | 'text', reason: RegExp, raw: string, encoding: 'utf8' | 'base64']> = [
    ['broken JSON', b('{"a":'), 'json', /not valid JSON/, '{"a":', 'utf8'],
    ['plain words where JSON is expected', b('hello'), 'json', /not valid JSON/, 'hello', 'utf8'],
    ['empty payload where JSON is expected', b(''), 'json', /empty payload/, '', 'utf8'],
    ['blank payload where JSON is expected', b('  '), 'json', /blank payload/, '  ', 'utf8'],
    ['bytes that are not UTF-8 (json)', Buffer.from([0xc3, 0x28]), 'json', /UTF-8/, 'wyg=', 'base64'],
    ['bytes that are not UTF-8 (text)', Buffer.from([0xff]), 'text', /UTF-8/, '/w==', 'base64'],
  ];
  for (const [name, payload, format, reason, raw, encoding] of bad) {
    test(`${format}: ${name} is invalid and keeps the raw payload`, () => {
      const r = decodePayload(payload, format);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.match(r.reason, reason);
      assert.equal(r.raw, raw);
      assert.equal(r.encoding, encoding);
    });
  }

  const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

  test('json: a message nested 6,000 deep is invalid input with the reason, kept whole (it overflowed the stack later on)', () => {
    const r = decodePayload(b(deep(6000)), 'json');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.match(r.reason, /^payload is JSON nested deeper than 64 levels \(at character 321\), over this source's maxDepth$/);
    assert.equal(r.raw, deep(6000));
  });

  test('json: nesting up to maxDepth is taken; brackets inside strings do not count', () => {
    assert.equal(decodePayload(b(deep(64)), 'json').ok, true);
    assert.equal(decodePayload(b(deep(3)), 'json', { maxPayloadBytes: 100, maxDepth: 3 }).ok, true);
    assert.equal(decodePayload(b(deep(4)), 'json', { maxPayloadBytes: 100, maxDepth: 3 }).ok, false);
    const quoted = JSON.stringify({ note: '[[[[{{{{ \\" [[[[' });
    assert.deepEqual(decodePayload(b(quoted), 'json', { maxPayloadBytes: 100, maxDepth: 1 }), { ok: true, value: JSON.parse(quoted) });
  });

  test('text: deep JSON text is text, not read as JSON', () => {
    assert.deepEqual(decodePayload(b(deep(6000)), 'text'), { ok: true, value: deep(6000) });
  });

  test('a payload over maxPayloadBytes is invalid input with its size, kept whole (base64 for bytes)', () => {
    const limits = { maxPayloadBytes: 4, maxDepth: 64 };
    assert.deepEqual(decodePayload(b('12345'), 'json', limits), {
      ok: false,
      reason: "payload of 5 bytes is over this source's maxPayloadBytes (4)",
      raw: '12345',
      encoding: 'utf8',
    });
    assert.deepEqual(decodePayload(b('LOT 7'), 'text', limits), {
      ok: false,
      reason: "payload of 5 bytes is over this source's maxPayloadBytes (4)",
      raw: 'LOT 7',
      encoding: 'utf8',
    });
    const bytes = decodePayload(Buffer.from([1, 2, 0xff, 4, 5]), 'text', limits);
    assert.equal(bytes.ok, false);
    if (!bytes.ok) assert.deepEqual([bytes.raw, bytes.encoding], ['AQL/BAU=', 'base64']);
    assert.equal(decodePayload(b('1234'), 'json', limits).ok, true);
  });

  test('rawPayload of a slice of a larger buffer reads only that slice', () => {
    const big = Buffer.from([0x41, 0xff, 0xfe, 0x42]);
    assert.deepEqual(rawPayload(big.subarray(1, 3)), { raw: '//4=', encoding: 'base64' });
    assert.deepEqual(rawPayload(big.subarray(0, 1)), { raw: 'A', encoding: 'utf8' });
  });
});
