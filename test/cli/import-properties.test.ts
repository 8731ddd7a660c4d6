import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { SqliteOutbox } from '../../agent/buffer/sqlite-outbox';
import { importEvents } from '../../agent/cli/import-events';
import { propertyRuns } from '../helpers/property';

/**
 * Any mix of good and bad lines: every good line is committed, every bad
 * line is reported with its own number, and the import never throws.
 */

const dir = mkdtempSync(join(tmpdir(), 'import-props-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NOW = () => new Date('2026-11-26T08:00:00Z');

type Line = { kind: 'good'; id: string; bytes: Buffer } | { kind: 'bad' | 'blank'; bytes: Buffer };

let ids = 0;
const good = fc.record({ withId: fc.boolean(), minute: fc.integer({ min: 0, max: 59 }), crlf: fc.boolean() }).map(({ withId, minute, crlf }): Line => {
  const n = ++ids;
  const event = {
    type: 'downtime.started',
    sequenceKey: 'WC-1',
    occurredAt: new Date(Date.UTC(2026, 10, 26, 7, minute, 0, n % 1000)).toISOString(),
    payload: { downtimeId: `d${n}`, workcenter: 'Press 1', reason: 'Setup' },
  };
  const text = JSON.stringify(withId ? { id: `imp-${n}`, ...event } : event);
  return { kind: 'good', id: withId ? `imp-${n}` : '', bytes: Buffer.from(crlf ? `${text}\r` : text) };
});

const noNewline = (b: Uint8Array) => Buffer.from(b.filter((x) => x !== 0x0a));
const bad = fc
  .oneof(
    // Bytes with one that is never UTF-8.
    fc.tuple(fc.uint8Array({ maxLength: 60 }), fc.nat()).map(([b, i]) => {
      const out = Buffer.from(noNewline(b));
      const at = out.length === 0 ? 0 : i % (out.length + 1);
      return Buffer.concat([out.subarray(0, at), Buffer.from([0xff]), out.subarray(at)]);
    }),
    // JSON that is not an object.
    fc
      .oneof(fc.array(fc.jsonValue({ maxDepth: 2 })), fc.double(), fc.string({ maxLength: 10 }), fc.constant(null))
      .map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    // Nested deeper than the limit.
    fc
      .tuple(fc.integer({ min: 65, max: 7000 }), fc.boolean())
      .map(([d, arr]) => Buffer.from(arr ? '['.repeat(d) + ']'.repeat(d) : `{"type":"downtime.started","payload":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`)),
    // An event with one field wrong.
    fc.constantFrom('type', 'occurredAt', 'payload', 'sequenceKey').map((field) =>
      Buffer.from(
        JSON.stringify({
          type: 'downtime.started',
          sequenceKey: 'WC-1',
          occurredAt: '2026-11-26T07:00:00Z',
          payload: { downtimeId: 'x', workcenter: 'Press 1', reason: 'Setup' },
          [field]: field === 'payload' ? { downtimeId: 'x' } : '',
        }),
      ),
    ),
    // Text that is not JSON.
    fc.string({ minLength: 1, maxLength: 30 }).map((s) => Buffer.from(`{${s.replace(/\n/g, ' ')}`)),
  )
  .map((bytes): Line => ({ kind: 'bad', bytes }));

const blank = fc.constantFrom('', ' ', '\t', '\r').map((s): Line => ({ kind: 'blank', bytes: Buffer.from(s) }));

describe('events import property tests', () => {
  it('every good line is committed and every bad line reported by number, whatever the mix', async (t) => {
    const outbox = new SqliteOutbox({ path: join(dir, 'outbox.db'), synchronous: 'NORMAL', log: pino({ level: 'silent' }) });
    let files = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ arbitrary: good, weight: 3 }, { arbitrary: bad, weight: 2 }, blank), { maxLength: 25 }), async (lines) => {
        const file = join(dir, `f${++files}.jsonl`);
        writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l.bytes, Buffer.from('\n')])));
        const before = outbox.counts().pending;
        const report = await importEvents(file, outbox, NOW);
        assert.equal(report.stopped, undefined);
        assert.deepEqual(
          report.rejected.map((r) => r.line),
          lines.flatMap((l, i) => (l.kind === 'bad' ? [i + 1] : [])),
        );
        for (const r of report.rejected) assert.ok(r.reason.length > 0);
        const goods = lines.filter((l) => l.kind === 'good');
        assert.equal(report.inserted, goods.length);
        assert.equal(outbox.counts().pending - before, goods.length);
        for (const l of goods) if (l.kind === 'good' && l.id) assert.ok(outbox.get(l.id), `${l.id} is in the outbox`);
      }),
      propertyRuns(t, 200),
    );
    await outbox.close();
  });
});
