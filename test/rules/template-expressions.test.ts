import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../agent/errors';
import { parseConfigSource } from '../../agent/config/load';
import type { CanonicalEvent } from '../../agent/model/event';
import type { Signal } from '../../agent/model/signal';
import { RuleEngine } from '../../agent/rules/engine';
import { mapMessage, mapMessageAsync, templateRuleConfigSchema, type TemplateRuleConfig } from '../../agent/rules/kinds/template';
import { CTX } from './helpers';

/** A MES message on `mes/stops`, received (MQTT has no source clock) at RECEIVED. */
const RECEIVED = '2025-03-03T12:00:05.000Z';
const msg = (value: Signal['value'], tag = 'mes/stops'): Signal => ({ source: 'mes', tag, value, quality: 'good', sourceTime: RECEIVED, receivedAt: RECEIVED });

/** The MES stop rule of docs/rules.md: a stop that has ended becomes one closed downtime. */
const mesStops = {
  kind: 'template',
  name: 'mes-stops',
  source: 'mes',
  tag: 'mes/stops',
  type: 'downtime.ended',
  maps: { lossReasons: { E12: 'Material Availability', E40: 'Equipment Failure', SETUP: 'Setup' } },
  payload: {
    downtimeId: '= value.stopId',
    workcenter: '{{value.machine}}',
    reason: "= $lookup($maps.lossReasons, value.code) ?: 'Equipment Failure'",
    startedAt: '= $fromMillis($toMillis(value.time) - value.duration_s * 1000)',
  },
  occurredAt: '= value.time',
  id: "= 'mes-stop-' & value.stopId",
  sequenceKey: "= 'workcenter:' & value.machine",
};

function config(raw: Record<string, unknown>): TemplateRuleConfig {
  return templateRuleConfigSchema.parse(raw);
}

async function mapped(raw: Record<string, unknown>, value: Signal['value']): Promise<CanonicalEvent | string> {
  const r = await mapMessageAsync(config(raw), msg(value), { ...CTX, facts: { get: () => undefined, set: () => undefined } });
  return r.ok ? r.event : r.reason;
}

const stop = { stopId: 'S-7781', machine: 'Press 1', code: 'E12', time: '2025-03-03T11:40:00Z', duration_s: 600 };

describe('template rules with JSONata expressions', () => {
  test('the MES stop becomes a closed downtime: start = time - duration, loss reason through the value map', async () => {
    const e = await mapped(mesStops, stop);
    assert.notEqual(typeof e, 'string', String(e));
    const event = e as CanonicalEvent;
    assert.equal(event.type, 'downtime.ended');
    assert.equal(event.id, 'mes-stop-S-7781');
    assert.equal(event.sequenceKey, 'workcenter:Press 1');
    assert.equal(event.occurredAt, '2025-03-03T11:40:00.000Z');
    assert.deepEqual(event.payload, { downtimeId: 'S-7781', workcenter: 'Press 1', reason: 'Material Availability', startedAt: '2025-03-03T11:30:00.000Z' });
  });

  const cases: Array<[name: string, field: string, expression: string, value: Record<string, unknown>, expected: unknown]> = [
    ['a code the map lacks takes the default', 'reason', mesStops.payload.reason, { ...stop, code: 'E99' }, 'Equipment Failure'],
    ['a condition', 'reason', "= value.duration_s > 3600 ? 'Equipment Failure' : 'Material Availability'", { ...stop, duration_s: 7200 }, 'Equipment Failure'],
    ['epoch seconds to ISO', 'startedAt', '= $fromMillis(value.t_s * 1000)', { ...stop, t_s: 1741000000 }, '2025-03-03T11:06:40.000Z'],
    ['text joined', 'downtimeId', "= value.machine & '@' & value.stopId", stop, 'Press 1@S-7781'],
    ['an optional field that gives nothing is left out', 'startedAt', '= value.notThere', stop, undefined],
  ];
  for (const [name, field, expression, value, expected] of cases) {
    test(name, async () => {
      const e = await mapped({ ...mesStops, payload: { ...mesStops.payload, [field]: expression } }, value);
      assert.notEqual(typeof e, 'string', String(e));
      assert.equal((e as CanonicalEvent).payload[field as keyof CanonicalEvent['payload']], expected);
    });
  }

  test('arithmetic on numbers: a total from good and rework, with a default of 0', async () => {
    const raw = {
      kind: 'template',
      name: 'counts',
      source: 'mes',
      tag: 'mes/stops',
      type: 'production.reported',
      payload: { production: '= value.order', totalQuantity: '= value.good + (value.rework ?: 0)' },
    };
    assert.equal((((await mapped(raw, { order: 'WH/MO/1', good: 10, rework: 2 })) as CanonicalEvent).payload as { totalQuantity: number }).totalQuantity, 12);
    assert.equal((((await mapped(raw, { order: 'WH/MO/1', good: 10 })) as CanonicalEvent).payload as { totalQuantity: number }).totalQuantity, 10);
  });

  const failures: Array<[name: string, value: Record<string, unknown>, reason: RegExp]> = [
    [
      'a type error',
      { ...stop, duration_s: 'ten minutes' },
      /payload\.startedAt '= \$fromMillis.*' failed at character \d+: The (left|right) side of the "\*" operator must evaluate to a number \(T200\d\)/,
    ],
    [
      'a time that does not parse',
      { ...stop, time: 'yesterday' },
      /payload\.startedAt .* failed at character 24: The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given "yesterday" \(D3110\)/,
    ],
    ['a required field missing', { ...stop, stopId: undefined }, /payload\.downtimeId '= value.stopId' gave nothing/],
    ['a required payload field missing', { ...stop, machine: undefined }, /not a valid downtime.ended event: .*workcenter/],
  ];
  for (const [name, value, reason] of failures) {
    test(`an expression that fails on one message gives the reason: ${name}`, async () => {
      const e = await mapped(mesStops, value);
      assert.equal(typeof e, 'string');
      assert.match(e as string, reason);
    });
  }

  test('a required field whose expression gives nothing is named', async () => {
    const e = await mapped({ ...mesStops, id: undefined, payload: { ...mesStops.payload, downtimeId: '= value.nope' } }, stop);
    assert.match(e as string, /payload\.downtimeId '= value.nope' gave nothing/);
  });

  test('the engine keeps a failing message as invalid input and maps the next one (the source keeps running)', async () => {
    const engine = RuleEngine.fromConfig([mesStops]);
    assert.equal(engine.needsAsync, true);
    const r = await engine.processAsync([msg({ ...stop, duration_s: 'x' }), msg({ ...stop, stopId: 'S-7782' })], CTX);
    assert.deepEqual(
      r.events.map((e) => e.id),
      ['mes-stop-S-7782'],
    );
    assert.equal(r.invalid.length, 1);
    assert.equal(r.invalid[0]!.rule, 'mes-stops');
    assert.match(r.invalid[0]!.reason, /payload\.startedAt .* failed/);
  });

  test('facts other rules publish are read with $fact, in signal order within one call', async () => {
    const engine = RuleEngine.fromConfig([
      { kind: 'order', name: 'press1-order', source: 'mes', tag: 'mes/order', workcenter: 'Press 1' },
      {
        kind: 'template',
        name: 'counts',
        source: 'mes',
        tag: 'mes/count',
        type: 'production.reported',
        payload: { production: "= $fact('workcenter:Press 1:production')", totalQuantity: '= value' },
      },
    ]);
    const r = await engine.processAsync([msg('WH/MO/00007', 'mes/order'), msg(5, 'mes/count'), msg('WH/MO/00008', 'mes/order'), msg(1, 'mes/count')], CTX);
    assert.deepEqual(
      r.events.map((e) => [(e.payload as { production: string }).production, (e.payload as { totalQuantity: number }).totalQuantity]),
      [
        ['WH/MO/00007', 5],
        ['WH/MO/00008', 1],
      ],
    );
  });

  test('the synchronous process() refuses an expression rule per signal, without throwing', () => {
    const engine = RuleEngine.fromConfig([mesStops]);
    const r = engine.process([msg(stop)], CTX);
    assert.equal(r.events.length, 0);
    assert.match(r.invalid[0]!.reason, /processAsync/);
    const sync = mapMessage(config(mesStops), msg(stop), { ...CTX, facts: { get: () => undefined, set: () => undefined } });
    assert.equal(sync.ok, false);
  });

  test('templates without expressions keep mapping synchronously (existing configs)', () => {
    const engine = RuleEngine.fromConfig([
      {
        kind: 'template',
        name: 'old',
        source: 'mes',
        tag: 'mes/count',
        type: 'production.reported',
        payload: { production: '{{value.order}}', totalQuantity: '{{value.good|number}}' },
      },
    ]);
    assert.equal(engine.needsAsync, false);
    const r = engine.process([msg({ order: 'WH/MO/1', good: '7' }, 'mes/count')], CTX);
    assert.equal((r.events[0]!.payload as { totalQuantity: number }).totalQuantity, 7);
  });
});

describe('expressions are checked when the config loads', () => {
  const configErrors: Array<[name: string, change: Record<string, unknown>, message: RegExp]> = [
    [
      'a syntax error',
      { payload: { ...mesStops.payload, reason: '= $lookup($maps.lossReasons, value.code' } },
      /payload.reason: expression does not parse: .*\(S0203\)/,
    ],
    [
      'a map the rule does not define',
      { payload: { ...mesStops.payload, reason: '= $lookup($maps.loss, value.code)' } },
      /reads \$maps.loss, which this rule does not define \(maps: lossReasons\)/,
    ],
    ['an empty expression', { id: '=' }, /id: expression does not parse: empty expression/],
    ['a bad map name', { maps: { 'loss reasons': {} } }, /map name/],
  ];
  for (const [name, change, message] of configErrors) {
    test(`refused: ${name}`, () => {
      const r = templateRuleConfigSchema.safeParse({ ...mesStops, ...change });
      assert.equal(r.success, false);
      if (!r.success) assert.match(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'), message);
    });
  }

  const yaml = (reason: string) =>
    [
      'plant: { id: p1 }',
      'sources: [{ name: mes, type: mqtt, url: "mqtt://127.0.0.1:1883", subscriptions: [{ topic: "mes/#" }] }]',
      'rules:',
      '  - kind: template',
      '    name: mes-stops',
      '    source: mes',
      '    tag: mes/stops',
      '    type: downtime.ended',
      '    maps:',
      '      lossReasons: { E12: Material Availability }',
      '    payload:',
      '      downtimeId: "= value.stopId"',
      '      workcenter: "= value.machine"',
      reason,
      '',
    ].join('\n');

  function problems(text: string): string {
    try {
      parseConfigSource(text, 'plant.yaml');
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    return '';
  }

  test('check-config names file:line:col of the character a quoted expression fails at', () => {
    // `]` is column 56 of line 14.
    const message = problems(yaml('      reason: "= $lookup($maps.lossReasons, value.code ]"'));
    assert.match(message, /plant\.yaml:14:56: rules\[0\]\.payload\.reason: expression does not parse/);
  });

  test('... in a block scalar over several lines', () => {
    const message = problems(yaml(['      reason: |', '        = $lookup($maps.lossReasons, value.code)', "          ?: 'x' +"].join('\n')));
    // The dangling `+` ends line 16 at column 18.
    assert.match(message, /plant\.yaml:16:18: rules\[0\]\.payload\.reason: expression does not parse/);
  });

  test('... and of the unknown map', () => {
    const message = problems(yaml('      reason: = $lookup($maps.lossReason, value.code)'));
    // `lossReason` starts at column 31 of line 14.
    assert.match(message, /plant\.yaml:14:31: rules\[0\]\.payload\.reason: expression reads \$maps.lossReason/);
  });

  test('config.example.yaml style templates still load', () => {
    assert.equal(problems(yaml('      reason: "{{value.reason|default:Equipment Failure}}"')), '');
  });
});
