import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { innerFilter, topicFilterProblem, topicMatches, topicNameProblem } from '../../../agent/protocols/mqtt/topic';

describe('MQTT topic filters', () => {
  const matches: Array<[filter: string, topic: string, expected: boolean]> = [
    ['plant/line1/temp', 'plant/line1/temp', true],
    ['plant/line1/temp', 'plant/line1/Temp', false],
    ['plant/+/temp', 'plant/line1/temp', true],
    ['plant/+/temp', 'plant/line1/a/temp', false],
    ['plant/+/temp', 'plant//temp', true],
    ['plant/+', 'plant/line1', true],
    ['plant/+', 'plant', false],
    ['plant/#', 'plant', true],
    ['plant/#', 'plant/line1/a/b', true],
    ['plant/#', 'plantX/line1', false],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['+/+', 'a/b', true],
    ['+/+', 'a/b/c', false],
    ['$share/line-group/plant/+/count', 'plant/p1/count', true],
    ['$share/line-group/plant/+/count', 'plant/p1/other', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
  ];
  for (const [filter, topic, expected] of matches) {
    test(`${filter} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
      assert.equal(topicMatches(filter, topic), expected);
    });
  }

  const filters: Array<[filter: string, problem: RegExp | undefined]> = [
    ['plant/+/temp', undefined],
    ['plant/#', undefined],
    ['#', undefined],
    ['+', undefined],
    ['$share/g/plant/#', undefined],
    ['', /empty/],
    ['plant/#/temp', /last level/],
    ['plant/line#', /whole level/],
    ['plant/line+/x', /whole level/],
    ['a\u0000b', /NUL/],
    ['$share/g', /\$share\/<group>\/<filter>/],
    ['$share/g/', /needs a filter/],
    ['$share/g+x/a', /group name/],
  ];
  for (const [filter, problem] of filters) {
    test(`filter ${JSON.stringify(filter)} is ${problem ? 'refused' : 'accepted'}`, () => {
      const p = topicFilterProblem(filter);
      if (problem) assert.match(p ?? '', problem);
      else assert.equal(p, undefined);
    });
  }

  test('topic names to publish on have no wildcards', () => {
    assert.equal(topicNameProblem('edge-agent/plant1/status'), undefined);
    assert.match(topicNameProblem('a/+/b') ?? '', /wildcards/);
    assert.match(topicNameProblem('a/#') ?? '', /wildcards/);
    assert.match(topicNameProblem('') ?? '', /empty/);
  });

  test('innerFilter strips the shared-subscription prefix only', () => {
    assert.equal(innerFilter('$share/g/a/+'), 'a/+');
    assert.equal(innerFilter('a/+'), 'a/+');
  });
});
