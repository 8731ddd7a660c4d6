/** The release section is checked when the file is loaded, each problem at its path. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseConfigText } from '../../agent/config/load';

const base = [
  'plant: { id: p1 }',
  'stateDir: /tmp/release-config-test',
  'sources:',
  '  - { name: scanner, type: mqtt, url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: "s/#" }] }',
];

function problems(lines: string[]): string {
  try {
    parseConfigText([...base, ...lines, ''].join('\n'), 'c.yaml');
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

it('refuses a release without a scope, MQTT without mqttOut, and writes through a source that cannot write', () => {
  assert.match(problems(['release: {}']), /company, warehouse, pickingType or workcenters/);
  assert.match(problems(['release: { workcenters: [A] }']), /release\.mqtt.*needs the mqttOut section/);
  const m = problems([
    'mqttOut: { url: "mqtt://127.0.0.1:1" }',
    'release:',
    '  workcenters: [A]',
    '  writes: [{ workcenter: A, source: scanner, order: { nodeId: "ns=2;s=X" } }, { workcenter: B, source: nope, order: { unitId: 1, address: 0, type: uint16 } }]',
  ]);
  assert.match(m, /release\.writes\[0\]\.source.*type mqtt/);
  assert.match(m, /release\.writes\[1\]\.workcenter.*not in release\.workcenters/);
  assert.match(m, /release\.writes\[1\]\.source.*no source named "nope"/);
  assert.equal(problems(['mqttOut: { url: "mqtt://127.0.0.1:1" }', 'release: { workcenters: [A] }']), '');
});
