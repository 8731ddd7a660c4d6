import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../agent/config/load';
import { ConfigError } from '../../agent/errors';

const BASE = `plant:
  id: plant1
stateDir: /tmp/flows-config-test
schedules:
  flows:
`;

function problems(flows: string): string[] {
  try {
    parseConfigText(BASE + flows, 'plant.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config: schedules.flows', () => {
  it('accepts flows and keeps them as written; none by default', () => {
    const c = parseConfigText(
      `${BASE}    - { name: consumption-hourly, cron: "0 * * * *", mode: rollup, types: [material.consumed, scrap.reported, production.reported] }\n    - { name: quality-nightly, cron: "0 30 22 * * *", mode: batch, types: [quality.recorded] }\n`,
      'plant.yaml',
    );
    assert.deepEqual(c.schedules.flows, [
      { name: 'consumption-hourly', cron: '0 * * * *', mode: 'rollup', types: ['material.consumed', 'scrap.reported', 'production.reported'] },
      { name: 'quality-nightly', cron: '0 30 22 * * *', mode: 'batch', types: ['quality.recorded'] },
    ]);
    assert.deepEqual(parseConfigText('plant:\n  id: plant1\n', 'plant.yaml').schedules.flows, []);
  });

  const cases: Array<{ name: string; flows: string; expect: RegExp }> = [
    {
      name: 'a bad cron expression',
      flows: `    - name: a\n      cron: "hourly"\n      mode: rollup\n      types: [material.consumed]\n`,
      expect: /^plant\.yaml:7:13: schedules\.flows\[0\]\.cron: must be a cron expression/,
    },
    {
      name: 'two flows of one name',
      flows: `    - { name: a, cron: "0 * * * *", mode: batch, types: [scrap.reported] }\n    - { name: a, cron: "0 * * * *", mode: batch, types: [quality.recorded] }\n`,
      expect: /^plant\.yaml:7:15: schedules\.flows\[1\]\.name: flow name "a" is already used by flows\[0\]/,
    },
    {
      name: 'a type in two flows',
      flows: `    - { name: a, cron: "0 * * * *", mode: rollup, types: [material.consumed] }\n    - name: b\n      cron: "0 0 * * *"\n      mode: batch\n      types:\n        - scrap.reported\n        - material.consumed\n`,
      expect:
        /^plant\.yaml:12:11: schedules\.flows\[1\]\.types\[1\]: material\.consumed is already held by flow "a" \(schedules\.flows\[0\]\); a type belongs to one flow at most/,
    },
    {
      name: 'a type listed twice in one flow',
      flows: `    - { name: a, cron: "0 * * * *", mode: batch, types: [scrap.reported, scrap.reported] }\n`,
      expect: /^plant\.yaml:6:\d+: schedules\.flows\[0\]\.types\[1\]: scrap\.reported is listed twice/,
    },
    {
      name: 'a type that cannot be rolled up',
      flows: `    - name: stops\n      cron: "*/5 * * * *"\n      mode: rollup\n      types: [material.consumed, downtime.started]\n`,
      expect: /^plant\.yaml:9:\d+: schedules\.flows\[0\]\.types\[1\]: downtime\.started cannot be rolled up: .*use mode batch for it/,
    },
    {
      name: 'an unknown event type',
      flows: `    - { name: a, cron: "0 * * * *", mode: batch, types: [material.eaten] }\n`,
      expect: /^plant\.yaml:6:\d+: schedules\.flows\[0\]\.types\[0\]: /,
    },
    {
      name: 'an unknown mode',
      flows: `    - { name: a, cron: "0 * * * *", mode: sum, types: [scrap.reported] }\n`,
      expect: /^plant\.yaml:6:\d+: schedules\.flows\[0\]\.mode: .*"rollup"\|"batch"/,
    },
    {
      name: 'a mode that does not exist',
      flows: `    - { name: a, cron: "0 * * * *", mode: daily, types: [scrap.reported] }\n`,
      expect: /^plant\.yaml:6:\d+: schedules\.flows\[0\]\.mode: Invalid option: expected one of "rollup"\|"batch"$/,
    },
    {
      name: 'a missing mode',
      flows: `    - { name: a, cron: "0 * * * *", types: [scrap.reported] }\n`,
      expect: /^plant\.yaml:6:\d+: schedules\.flows\[0\]\.mode: required field is missing \(one of "rollup", "batch"\)$/,
    },
    {
      name: 'no types',
      flows: `    - { name: a, cron: "0 * * * *", mode: batch, types: [] }\n`,
      expect: /schedules\.flows\[0\]\.types: name at least one event type/,
    },
    {
      name: 'an unknown key (a typo)',
      flows: `    - { name: a, cron: "0 * * * *", mode: batch, type: [scrap.reported] }\n`,
      expect: /schedules\.flows\[0\]\.type: unknown key "type"/,
    },
    {
      name: 'a name with spaces',
      flows: `    - { name: "my flow", cron: "0 * * * *", mode: batch, types: [scrap.reported] }\n`,
      expect: /^plant\.yaml:6:\d+: schedules\.flows\[0\]\.name: letters, digits/,
    },
  ];
  for (const c of cases) {
    it(`names file, line and field for ${c.name}`, () => {
      const p = problems(c.flows);
      assert.ok(
        p.some((x) => c.expect.test(x)),
        `expected ${c.expect}, got:\n${p.join('\n')}`,
      );
    });
  }
});
