import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderFields, renderTemplate, resolvePath, templateProblem } from '../../agent/rules/template-language';

const facts = new Map<string, unknown>([
  ['workcenter:Press 1:production', 'WH/MO/00042'],
  ['workcenter:Line 1.2:production', 'WH/MO/00007'],
]);
const scope = {
  value: 42,
  flag: true,
  text: '  lot-7 ',
  tags: { lot: 'L-2025-001', good: 120, scrap: '3', nested: { a: [10, 20] }, empty: '', none: null },
  facts,
  obj: { 'a.b': { c: 'dotted' } },
};

describe('renderTemplate', () => {
  const table: Array<[template: string, expected: unknown]> = [
    // one placeholder keeps the type
    ['{{value}}', 42],
    ['{{flag}}', true],
    ['{{tags.good}}', 120],
    ['{{ tags.good }}', 120],
    ['{{tags.nested}}', { a: [10, 20] }],
    ['{{tags.nested.a.1}}', 20],
    ['{{tags.missing}}', undefined],
    ['{{nothing.at.all}}', undefined],
    ['{{tags.none}}', null],
    // text around placeholders gives a string
    ['Qty {{value}}', 'Qty 42'],
    ['{{tags.lot}}/{{value}}', 'L-2025-001/42'],
    ['[{{tags.missing}}]', '[]'],
    ['{{tags.nested}}!', '{"a":[10,20]}!'],
    ['no placeholders', 'no placeholders'],
    ['', ''],
    // facts: keys with ':' and spaces, and with '.' inside
    ['{{facts.workcenter:Press 1:production}}', 'WH/MO/00042'],
    ['{{facts.workcenter:Line 1.2:production}}', 'WH/MO/00007'],
    ['{{facts.workcenter:Press 9:production}}', undefined],
    ['{{obj.a.b.c}}', 'dotted'],
    // filters
    ['{{tags.scrap|number}}', 3],
    ['{{tags.lot|number}}', Number.NaN],
    ['WH/MO/{{value|pad:5}}', 'WH/MO/00042'],
    ['{{value|string}}', '42'],
    ['{{text|trim|upper}}', 'LOT-7'],
    ['{{tags.lot|lower}}', 'l-2025-001'],
    ['{{value|fixed:2}}', '42.00'],
    ['{{tags.missing|default:NONE}}', 'NONE'],
    ['{{tags.empty|default:NONE}}', 'NONE'],
    ['{{tags.good|default:NONE}}', 120],
    ['{{tags.nested|json}}', '{"a":[10,20]}'],
    ['{{tags.missing|pad:3}}', undefined],
  ];
  for (const [template, expected] of table) {
    it(`${JSON.stringify(template)} -> ${JSON.stringify(expected) ?? 'undefined'}`, () => {
      assert.deepEqual(renderTemplate(template, scope), expected);
    });
  }

  it('does not read inherited properties', () => {
    assert.equal(renderTemplate('{{tags.constructor}}', scope), undefined);
    assert.equal(renderTemplate('{{tags.__proto__}}', scope), undefined);
  });

  it('reports malformed templates', () => {
    assert.match(templateProblem('Qty {{value') ?? '', /unclosed/);
    assert.match(templateProblem('{{ }}') ?? '', /empty placeholder/);
    assert.match(templateProblem('{{value|shout}}') ?? '', /unknown filter "shout"/);
    assert.match(templateProblem('{{value|pad}}') ?? '', /needs an argument/);
    assert.match(templateProblem('{{value|pad:x}}') ?? '', /whole number/);
    assert.equal(templateProblem('WH/MO/{{value|pad:5}}'), undefined);
    assert.throws(() => renderTemplate('{{value|shout}}', scope), /unknown filter/);
  });
});

describe('renderFields', () => {
  it('renders strings, keeps other values, and leaves out empty results', () => {
    const out = renderFields(
      {
        production: '{{facts.workcenter:Press 1:production}}',
        totalQuantity: '{{tags.good}}',
        lot: '{{tags.lot}}',
        uom: 'Units',
        reason: '{{tags.missing}}',
        note: '{{tags.empty}}',
        operator: '{{tags.none}}',
        measure: 7.5,
        pass: false,
        nested: { q: '{{value}}' },
      },
      scope,
    );
    assert.deepEqual(out, {
      production: 'WH/MO/00042',
      totalQuantity: 120,
      lot: 'L-2025-001',
      uom: 'Units',
      measure: 7.5,
      pass: false,
      nested: { q: 42 },
    });
  });
});

describe('resolvePath', () => {
  it('walks objects, arrays and maps', () => {
    assert.equal(resolvePath({ a: { b: [1, { c: 'x' }] } }, 'a.b.1.c'), 'x');
    assert.deepEqual(resolvePath({ a: 1 }, ''), { a: 1 });
    assert.deepEqual(resolvePath({ a: 1 }, []), { a: 1 });
    assert.equal(resolvePath(new Map([['k.1', 5]]), 'k.1'), 5);
    assert.equal(resolvePath('text', 'length'), undefined);
  });
});
