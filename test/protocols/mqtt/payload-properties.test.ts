import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { SqliteOutbox } from '../../../agent/buffer/sqlite-outbox';
import { EVENT_TYPES } from '../../../agent/model/event';
import type { InvalidInput, Signal } from '../../../agent/model/signal';
import { decodePayload, DEFAULT_PAYLOAD_LIMITS, type PayloadFormat } from '../../../agent/protocols/mqtt/decode';
import { RuleEngine } from '../../../agent/rules/engine';
import { Pipeline } from '../../../agent/runtime/pipeline';
import { propertyRuns } from '../../helpers/property';
import { silentLog } from './support';

/**
 * Any MQTT payload, through what the source does with it (decode) and what
 * the agent does next (rules, outbox): it ends as an event or as invalid
 * input with a reason, committed; nothing throws and nothing is dropped.
 */

const dir = mkdtempSync(join(tmpdir(), 'mqtt-props-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOPICS = ['mes/events', 'plant/counters'] as const;

function agentPath() {
  const outbox = new SqliteOutbox({ path: join(dir, 'outbox.db'), synchronous: 'NORMAL', log: silentLog });
  const engine = RuleEngine.fromConfig([
    { kind: 'event', name: 'mes-events', source: 'mes', tag: 'mes/events' },
    {
      kind: 'template',
      name: 'counters',
      source: 'mes',
      tag: 'plant/counters',
      type: '{{value.type|default:production.reported}}',
      payload: { production: '{{value.order}}', totalQuantity: '{{value.good|number}}', workcenter: '{{value.press.name}}' },
      occurredAt: '{{value.ts}}',
    },
  ]);
  return { outbox, pipeline: new Pipeline(outbox, engine, { plant: 'plant1', log: silentLog }) };
}

const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

function deepText(depth: number, kind: number): string {
  if (kind === 0) return '['.repeat(depth) + ']'.repeat(depth);
  if (kind === 1) return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  // An event whose payload is deep.
  return `{"id":"D","type":"production.reported","sequenceKey":"K","occurredAt":"2025-03-03T10:00:00Z","payload":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
}

const eventLike = fc
  .record({
    id: fc.oneof(fc.string({ maxLength: 12 }), fc.nat(), fc.constant(undefined)),
    type: fc.constantFrom(...EVENT_TYPES, 'coffee.brewed', ''),
    sequenceKey: fc.oneof(fc.string({ maxLength: 8 }), fc.constant(undefined)),
    occurredAt: fc.oneof(
      fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string({ maxLength: 10 }),
    ),
    payload: fc.oneof(fc.record({ production: fc.string({ maxLength: 10 }), totalQuantity: fc.oneof(fc.double(), fc.nat()) }), fc.jsonValue({ maxDepth: 4 })),
  })
  .map((v) => text(JSON.stringify(v)));

const counterLike = fc
  .record({
    order: fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
    good: fc.oneof(fc.nat(), fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })),
    press: fc.jsonValue({ maxDepth: 3 }),
    ts: fc.oneof(
      fc.nat(),
      fc.string({ maxLength: 24 }),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    ),
    type: fc.oneof(fc.constant(undefined), fc.constantFrom(...EVENT_TYPES), fc.string({ maxLength: 6 })),
  })
  .map((v) => text(JSON.stringify(v)));

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.json({ maxDepth: 6 }).map(text),
  fc.tuple(fc.integer({ min: 1, max: 8000 }), fc.integer({ min: 0, max: 2 })).map(([d, k]) => text(deepText(d, k))),
  eventLike,
  counterLike,
  // A good-looking message with a byte flipped.
  fc.tuple(eventLike, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, i, x]) => {
    const out = new Uint8Array(b);
    out[i % out.length] = x;
    return out;
  }),
);

describe('MQTT payload property tests', () => {
  it('any payload becomes an event or invalid input with a reason, committed; nothing throws', async (t) => {
    const { outbox, pipeline } = agentPath();
    const total = () => {
      const c = outbox.counts();
      return c.pending + c.duplicates + c.invalid;
    };
    let n = 0;
    await fc.assert(
      fc.asyncProperty(payload, fc.constantFrom(...TOPICS), fc.constantFrom<PayloadFormat>('json', 'text'), async (bytes, topic, format) => {
        const before = total();
        const receivedAt = new Date(Date.UTC(2025, 2, 3, 12, 0, 0, n++)).toISOString();
        const decoded = decodePayload(bytes, format, DEFAULT_PAYLOAD_LIMITS);
        if (decoded.ok) {
          const signal: Signal = { source: 'mes', tag: topic, value: decoded.value, quality: 'good', sourceTime: receivedAt, receivedAt };
          await pipeline.emit([signal]);
        } else {
          assert.ok(decoded.reason.length > 0, 'an invalid payload says why');
          const input: InvalidInput = { source: 'mes', origin: topic, reason: decoded.reason, raw: decoded.raw, encoding: decoded.encoding, receivedAt };
          await pipeline.reject(input);
        }
        // One rule listens on each topic: exactly one event (new or a duplicate) or one invalid input per message.
        assert.equal(total() - before, 1);
      }),
      propertyRuns(t, 400),
    );
    for (const row of outbox.listInvalid(1000)) assert.ok(row.reason.length > 0);
    await outbox.close();
  });
});
