import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timeMs } from '../../agent/rules/values';
import { CTX, engineOf, feed } from './helpers';

describe('times that a rule reads', () => {
  const table: Array<[text: string, zone: string | undefined, expected: string | undefined]> = [
    ['2026-03-29T06:00:00Z', undefined, '2026-03-29T06:00:00.000Z'],
    ['2026-03-29T06:00:00.123456Z', undefined, '2026-03-29T06:00:00.123Z'],
    ['2026-03-29 08:00:00+02:00', undefined, '2026-03-29T06:00:00.000Z'],
    ['2026-03-29T08:00+0200', undefined, '2026-03-29T06:00:00.000Z'],
    ['2026-03-29T08:00:00+02', undefined, '2026-03-29T06:00:00.000Z'],
    // No zone: plant time when there is one, else refused (it would be the gateway's zone).
    ['2026-03-29 08:00:00', 'Europe/Berlin', '2026-03-29T06:00:00.000Z'],
    ['2026-01-15T08:00:00', 'Europe/Berlin', '2026-01-15T07:00:00.000Z'],
    ['2026-03-29 08:00:00', undefined, undefined],
    // Not times, or not ISO 8601: refused, not guessed.
    ['03/04/2026 10:00', 'Europe/Berlin', undefined],
    ['March 3, 2026', 'Europe/Berlin', undefined],
    ['2026-04-31T10:00:00Z', undefined, undefined],
    ['2026-13-01T10:00:00Z', undefined, undefined],
    ['2026-03-29T24:00:00Z', undefined, undefined],
    ['yesterday', 'Europe/Berlin', undefined],
    ['', undefined, undefined],
  ];
  for (const [text, zone, expected] of table) {
    it(`${JSON.stringify(text)}${zone ? ` in ${zone}` : ''} -> ${expected ?? 'not a time'}`, () => {
      const ms = timeMs(text, zone);
      assert.equal(ms === undefined ? undefined : new Date(ms).toISOString(), expected);
    });
  }
});

describe('a message whose time does not parse is kept as invalid input; the rule goes on', () => {
  const rule = {
    kind: 'template',
    name: 'mes-stops',
    source: 'plc1',
    tag: 'mes/stop',
    type: 'downtime.started',
    occurredAt: '{{value.at}}',
    payload: { downtimeId: '{{value.id}}', workcenter: 'Press 1', reason: 'Setup' },
  };
  const message = (id: string, at: string, seconds: number) => ({
    source: 'plc1',
    tag: 'mes/stop',
    value: { id, at },
    quality: 'good' as const,
    sourceTime: new Date(Date.UTC(2026, 2, 29, 6) + seconds * 1000).toISOString(),
    receivedAt: new Date(Date.UTC(2026, 2, 29, 6) + seconds * 1000).toISOString(),
  });

  it('a time in a form the agent does not guess, then a good one', () => {
    const r = feed(engineOf([rule]), [message('a', '29.03.2026 08:00', 0), message('b', '2026-03-29T08:00:00+02:00', 1)]);
    assert.equal(r.invalid.length, 1);
    assert.match(r.invalid[0]!.reason, /occurredAt '\{\{value.at\}\}' gave "29.03.2026 08:00", which is not a time/);
    assert.deepEqual(
      r.events.map((e) => e.occurredAt),
      ['2026-03-29T06:00:00.000Z'],
    );
  });

  it('a local time without a zone is read in plant time', () => {
    const r = feed(engineOf([rule]), [message('c', '2026-03-29 08:00:00', 0)], { ...CTX, plantTime: { timeZone: 'Europe/Berlin', shifts: [] } });
    assert.deepEqual(
      r.events.map((e) => e.occurredAt),
      ['2026-03-29T06:00:00.000Z'],
    );
  });
});
