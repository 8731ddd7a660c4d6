import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Signal } from '../../../agent/model/signal';
import { eventRule, eventRuleConfigSchema } from '../../../agent/rules/kinds/event';
import { occurredAtMs, templateRule, templateRuleConfigSchema } from '../../../agent/rules/kinds/template';
import { ruleKinds } from '../../../agent/rules/kinds';
import type { FactStore, RuleContext } from '../../../agent/rules/types';

const NOW = '2025-03-03T12:00:00.000Z';
const RECEIVED = '2025-03-03T11:59:59.000Z';

function facts(init: Record<string, unknown> = {}): FactStore {
  const m = new Map(Object.entries(init));
  return { get: (k) => m.get(k), set: (k, v) => void m.set(k, v) };
}

const ctx = (): RuleContext => ({ plant: 'plant1', now: NOW, facts: facts({ 'workcenter:Press 1:production': 'WH/MO/00007' }) });

function mqttSignal(tag: string, value: Signal['value'], extra: Partial<Signal> = {}): Signal {
  return { source: 'mes', tag, value, quality: 'good', sourceTime: RECEIVED, receivedAt: RECEIVED, meta: { qos: 1, retain: false }, ...extra };
}

const mesEvent = {
  id: 'MES-1001',
  type: 'production.reported',
  sequenceKey: 'WH/MO/00042',
  occurredAt: '2025-03-03T11:58:00.000Z',
  payload: { production: 'WH/MO/00042', totalQuantity: 120 },
};

function applyEvent(config: Record<string, unknown>, signal: Signal) {
  const rule = eventRule.create(eventRuleConfigSchema.parse({ kind: 'event', name: 'mes-events', source: 'mes', tag: 'mes/#', ...config }));
  return { rule, out: rule.apply(rule.initialState(), signal, ctx()) };
}

function applyTemplate(config: Record<string, unknown>, signal: Signal) {
  const rule = templateRule.create(templateRuleConfigSchema.parse({ kind: 'template', name: 'counters', source: 'mes', tag: 'plant/+/counters', ...config }));
  return { rule, out: rule.apply(rule.initialState(), signal, ctx()) };
}

describe('rule kind `event`', () => {
  test('both kinds are registered', () => {
    assert.ok(ruleKinds.some((k) => k.kind === 'event'));
    assert.ok(ruleKinds.some((k) => k.kind === 'template'));
  });

  test('a canonical event passes, with receivedAt and source filled in', () => {
    const { rule, out } = applyEvent({}, mqttSignal('mes/events', mesEvent));
    assert.equal(out.invalid, undefined);
    assert.deepEqual(out.events, [{ ...mesEvent, receivedAt: NOW, source: 'mes' }]);
    assert.equal(rule.matches(mqttSignal('mes/events', {})), true);
    assert.equal(rule.matches(mqttSignal('other/events', {})), false);
    assert.equal(rule.matches({ ...mqttSignal('mes/events', {}), source: 'other' }), false);
  });

  test('values in the message win over the fills', () => {
    const { out } = applyEvent({}, mqttSignal('mes/e', { ...mesEvent, receivedAt: '2025-03-03T11:58:01Z', source: 'mes-line-2' }));
    assert.equal(out.events[0]!.receivedAt, '2025-03-03T11:58:01Z');
    assert.equal(out.events[0]!.source, 'mes-line-2');
  });

  const cases: Array<[name: string, config: Record<string, unknown>, value: Signal['value'], expect: { invalid?: RegExp; id?: string; sequenceKey?: string }]> =
    [
      ['no id and no idFrom', {}, { ...mesEvent, id: undefined }, { invalid: /no 'id'/ }],
      ['id from idFrom', { idFrom: 'header.msg' }, { ...mesEvent, id: undefined, header: undefined }, { invalid: /no event id at 'header.msg'/ }],
      ['idFrom path found (a number; its field is left out)', { idFrom: 'mesId' }, { ...mesEvent, id: undefined, mesId: 778812 }, { id: '778812' }],
      ['idFrom nested, overriding the message id', { idFrom: 'header.msg' }, { ...mesEvent, header: { msg: 'H-9' } }, { id: 'H-9' }],
      ['another unknown top-level field is still an error', { idFrom: 'header.msg' }, { ...mesEvent, header: { msg: 'H-9' }, extra: 1 }, { invalid: /extra/ }],
      [
        'sequenceKey from the template',
        { sequenceKey: 'wc:{{value.payload.workcenter}}' },
        { ...mesEvent, sequenceKey: undefined, payload: { production: 'WH/MO/1', totalQuantity: 1, workcenter: 'Press 1' } },
        { sequenceKey: 'wc:Press 1' },
      ],
      ['sequenceKey defaults to the order', {}, { ...mesEvent, sequenceKey: undefined }, { sequenceKey: 'WH/MO/00042' }],
      ['the message sequenceKey wins over the template', { sequenceKey: 'x' }, mesEvent, { sequenceKey: 'WH/MO/00042' }],
      ['an unknown top-level field', {}, { ...mesEvent, extra: 1 }, { invalid: /extra/ }],
      ['no occurredAt', {}, { ...mesEvent, occurredAt: undefined }, { invalid: /occurredAt/ }],
      ['no type', {}, { ...mesEvent, type: undefined }, { invalid: /not a valid event: type/ }],
      ['an unknown event type', {}, { ...mesEvent, type: 'coffee.brewed' }, { invalid: /not a valid event: type/ }],
      [
        'a payload field that does not validate',
        {},
        { ...mesEvent, payload: { production: 'WH/MO/1', totalQuantity: -3 } },
        { invalid: /payload\.totalQuantity/ },
      ],
      [
        'an unknown payload field',
        {},
        { ...mesEvent, payload: { production: 'WH/MO/1', totalQuantity: 3, colour: 'red' } },
        { invalid: /colour|Unrecognized/ },
      ],
      ['a type this rule does not accept', { types: ['scrap.reported'] }, mesEvent, { invalid: /not accepted by rule mes-events/ }],
      ['a number, not an object', {}, 42, { invalid: /not a JSON object/ }],
      ['an array', {}, [mesEvent], { invalid: /not a JSON object/ }],
      ['text that is JSON (a text subscription)', {}, JSON.stringify(mesEvent), { id: 'MES-1001' }],
      ['text that is not JSON', {}, 'hello', { invalid: /not a JSON event/ }],
      ['text that is JSON nested 6,000 deep (a text subscription)', {}, '['.repeat(6000) + ']'.repeat(6000), { invalid: /JSON nested deeper than 64 levels/ }],
      ['the event under a path', { path: 'event' }, { event: mesEvent }, { id: 'MES-1001' }],
    ];
  for (const [name, config, value, expect] of cases) {
    test(name, () => {
      const { out } = applyEvent(config, mqttSignal('mes/e', JSON.parse(JSON.stringify(value ?? null)) as Signal['value']));
      if (expect.invalid) {
        assert.equal(out.events.length, 0);
        assert.match(out.invalid ?? '', expect.invalid);
        return;
      }
      assert.equal(out.invalid, undefined, out.invalid);
      assert.equal(out.events.length, 1);
      if (expect.id) assert.equal(out.events[0]!.id, expect.id);
      if (expect.sequenceKey) assert.equal(out.events[0]!.sequenceKey, expect.sequenceKey);
    });
  }

  test('a bad-quality signal is skipped, not invalid', () => {
    const { out } = applyEvent({}, mqttSignal('mes/e', mesEvent, { quality: 'bad' }));
    assert.deepEqual(out, { state: null, events: [] });
  });
});

describe('rule kind `template`', () => {
  const base = {
    type: 'production.reported',
    payload: { production: '{{value.order}}', totalQuantity: '{{value.good|number}}', workcenter: '{{value.press}}' },
  };
  const msg = { order: 'WH/MO/00042', good: '118', press: 'Press 1', ts: '2025-03-03T11:57:00Z', msgId: 'A-77' };

  test('maps fields onto the event type and validates', () => {
    const { out } = applyTemplate(base, mqttSignal('plant/p1/counters', msg));
    assert.equal(out.invalid, undefined, out.invalid);
    const e = out.events[0]!;
    assert.equal(e.type, 'production.reported');
    assert.deepEqual(e.payload, { production: 'WH/MO/00042', totalQuantity: 118, workcenter: 'Press 1' });
    assert.equal(e.sequenceKey, 'WH/MO/00042');
    assert.equal(e.occurredAt, RECEIVED);
    assert.equal(e.receivedAt, NOW);
    assert.equal(e.source, 'mes');
  });

  test('the default id: same message twice (a redelivery, later receive time) is one id; another message another id', () => {
    const a = applyTemplate(base, mqttSignal('plant/p1/counters', msg)).out.events[0]!;
    const later = '2025-03-03T12:30:00.000Z';
    const again = applyTemplate(base, mqttSignal('plant/p1/counters', msg, { sourceTime: later, receivedAt: later })).out.events[0]!;
    const other = applyTemplate(base, mqttSignal('plant/p1/counters', { ...msg, good: '119' })).out.events[0]!;
    const otherTopic = applyTemplate(base, mqttSignal('plant/p2/counters', msg)).out.events[0]!;
    assert.equal(a.id, again.id);
    assert.notEqual(a.id, other.id);
    assert.notEqual(a.id, otherTopic.id);
    assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('a source with its own clock: its time is part of the default id', () => {
    const s1 = mqttSignal('plant/p1/counters', msg, { sourceTime: '2025-03-03T10:00:00.000Z' });
    const s2 = mqttSignal('plant/p1/counters', msg, { sourceTime: '2025-03-03T10:00:01.000Z' });
    assert.notEqual(applyTemplate(base, s1).out.events[0]!.id, applyTemplate(base, s2).out.events[0]!.id);
    assert.equal(applyTemplate(base, s1).out.events[0]!.occurredAt, '2025-03-03T10:00:00.000Z');
  });

  const cases: Array<
    [name: string, config: Record<string, unknown>, value: Signal['value'], expect: { invalid?: RegExp; check?: (e: Record<string, unknown>) => void }]
  > = [
    [
      'id, sequenceKey and occurredAt from templates',
      { id: 'mes-{{value.msgId}}', sequenceKey: 'line:{{topic}}', occurredAt: '{{value.ts}}' },
      msg,
      {
        check: (e) => {
          assert.equal(e.id, 'mes-A-77');
          assert.equal(e.sequenceKey, 'line:plant/p1/counters');
          assert.equal(e.occurredAt, '2025-03-03T11:57:00.000Z');
        },
      },
    ],
    [
      'occurredAt from epoch seconds',
      { occurredAt: '{{value.t}}' },
      { ...msg, t: 1741000000 },
      { check: (e) => assert.equal(e.occurredAt, '2025-03-03T11:06:40.000Z') },
    ],
    ['occurredAt that is not a time', { occurredAt: '{{value.ts}}' }, { ...msg, ts: 'yesterday' }, { invalid: /not a time/ }],
    [
      'type from a template',
      { type: '{{value.kind}}' },
      { ...msg, kind: 'production.reported' },
      { check: (e) => assert.equal(e.type, 'production.reported') },
    ],
    ['type template that gives no event type', { type: '{{value.kind}}' }, { ...msg, kind: 'nonsense' }, { invalid: /not an event type/ }],
    ['a required field missing from the message', {}, { good: 5 }, { invalid: /payload\.production/ }],
    ['a quantity that is not a number', {}, { ...msg, good: 'many' }, { invalid: /totalQuantity/ }],
    ['an empty id template result', { id: '{{value.none}}' }, msg, { invalid: /not an id/ }],
    ['an empty sequenceKey template result', { sequenceKey: '{{value.none}}' }, msg, { invalid: /sequenceKey/ }],
    [
      'facts and plant in templates',
      { payload: { production: '{{facts.workcenter:Press 1:production}}', totalQuantity: '{{value.good|number}}' }, id: '{{plant}}-{{value.msgId}}' },
      msg,
      {
        check: (e) => {
          assert.equal((e.payload as { production: string }).production, 'WH/MO/00007');
          assert.equal(e.id, 'plant1-A-77');
        },
      },
    ],
    [
      'a path into the message',
      { path: 'data', payload: { production: '{{value.o}}', totalQuantity: '{{value.q}}' } },
      { data: { o: 'WH/MO/9', q: 3 } },
      { check: (e) => assert.deepEqual(e.payload, { production: 'WH/MO/9', totalQuantity: 3 }) },
    ],
    ['a path that is not there', { path: 'data' }, msg, { invalid: /nothing at 'data'/ }],
  ];
  for (const [name, config, value, expect] of cases) {
    test(name, () => {
      const { out } = applyTemplate({ ...base, ...config }, mqttSignal('plant/p1/counters', value));
      if (expect.invalid) {
        assert.equal(out.events.length, 0);
        assert.match(out.invalid ?? '', expect.invalid);
        return;
      }
      assert.equal(out.invalid, undefined, out.invalid);
      expect.check?.(out.events[0] as unknown as Record<string, unknown>);
    });
  }

  const configErrors: Array<[name: string, config: Record<string, unknown>, message: RegExp]> = [
    ['an unknown event type', { type: 'coffee.brewed' }, /unknown event type/],
    ['a field the type does not have', { payload: { ...base.payload, colour: 'red' } }, /has no field "colour"/],
    ['a required field left out', { payload: { totalQuantity: '{{value.good}}' } }, /needs the field "production"/],
    ['a malformed template', { payload: { ...base.payload, production: '{{value.order' } }, /unclosed/],
    ['an unknown key', { ...base, fields: {} }, /fields/],
  ];
  for (const [name, config, message] of configErrors) {
    test(`config refuses ${name}`, () => {
      const r = templateRuleConfigSchema.safeParse({ kind: 'template', name: 'c', source: 'mes', tag: 'a/#', ...base, ...config });
      assert.equal(r.success, false);
      if (!r.success) assert.match(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'), message);
    });
  }

  const times: Array<[unknown, number | undefined]> = [
    ['2025-03-03T11:57:00Z', Date.parse('2025-03-03T11:57:00Z')],
    [1741000000, 1741000000000],
    ['1741000000', 1741000000000],
    [1741000000123, 1741000000123],
    ['soon', undefined],
    [0, undefined],
    [undefined, undefined],
  ];
  for (const [input, ms] of times) {
    test(`occurredAtMs(${JSON.stringify(input)})`, () => assert.equal(occurredAtMs(input), ms));
  }
});

describe('event and template rules in the rule engine', () => {
  test('one MQTT message each: a valid event and an invalid one with its reason', async () => {
    const { RuleEngine } = await import('../../../agent/rules/engine');
    const engine = RuleEngine.fromConfig([
      { kind: 'event', name: 'mes-events', source: 'mes', tag: 'mes/#' },
      {
        kind: 'template',
        name: 'counters',
        source: 'mes',
        tag: 'plant/+/counters',
        type: 'production.reported',
        payload: { production: '{{value.order}}', totalQuantity: '{{value.good}}' },
      },
    ]);
    const r = engine.process(
      [mqttSignal('mes/events', mesEvent), mqttSignal('plant/p1/counters', { order: 'WH/MO/1', good: 4 }), mqttSignal('mes/events', { type: 'x' })],
      { plant: 'plant1', now: NOW },
    );
    assert.deepEqual(
      r.events.map((e) => [e.type, e.sequenceKey]),
      [
        ['production.reported', 'WH/MO/00042'],
        ['production.reported', 'WH/MO/1'],
      ],
    );
    assert.equal(r.invalid.length, 1);
    assert.equal(r.invalid[0]!.rule, 'mes-events');
    assert.match(r.invalid[0]!.reason, /no 'id'/);
  });
});
