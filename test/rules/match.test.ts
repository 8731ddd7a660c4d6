import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTagPattern, hasWildcard, matchSource, matchTag, signalMatcher, tagPatternProblem } from '../../agent/rules/match';

describe('tag patterns', () => {
  const table: Array<[pattern: string, tag: string, expected: boolean]> = [
    // exact
    ['ns=2;s=Press1.Count', 'ns=2;s=Press1.Count', true],
    ['ns=2;s=Press1.Count', 'ns=2;s=Press1.Count2', false],
    ['ns=2;s=Press1.Count', 'ns=2;s=press1.count', false],
    ['Press1.Count', 'Press1xCount', false], // `.` is not a wildcard
    ['a+b', 'a+b', true], // `+` inside a level is an ordinary character
    ['a+b', 'aab', false],
    ['s=#1', 's=#1', true],
    ['(x)[y]^$', '(x)[y]^$', true],
    // `*` glob
    ['Press1.*', 'Press1.Count', true],
    ['Press1.*', 'Press1.', true],
    ['Press1.*', 'Press2.Count', false],
    ['*.Count', 'Press1.Count', true],
    ['*.Count', 'Press1.Count.Raw', false],
    ['*', 'anything/at/all', true],
    ['line1/*/state', 'line1/press1/state', true],
    ['line1/*/state', 'line1/a/b/state', true], // `*` crosses levels
    // MQTT `+`
    ['plant/+/state', 'plant/press1/state', true],
    ['plant/+/state', 'plant/press1/x/state', false],
    ['plant/+/state', 'plant//state', true],
    ['plant/+', 'plant/press1', true],
    ['plant/+', 'plant', false],
    ['+/+', 'a/b', true],
    ['+', 'a', true],
    ['+', 'a/b', false],
    // MQTT `#`
    ['plant/line1/#', 'plant/line1/press1/count', true],
    ['plant/line1/#', 'plant/line1', true],
    ['plant/line1/#', 'plant/line10', false],
    ['plant/line1/#', 'plant/line2/x', false],
    ['#', 'a/b/c', true],
    ['plant/+/#', 'plant/a/b/c', true],
    ['plant/+/#', 'plant', false],
    // `$` topics are not matched by leading wildcards, as on a broker
    ['#', '$SYS/broker/load', false],
    ['+/broker/load', '$SYS/broker/load', false],
    ['$SYS/#', '$SYS/broker/load', true],
  ];
  for (const [pattern, tag, expected] of table) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(tag)}`, () => {
      assert.equal(matchTag(pattern, tag), expected);
      assert.equal(compileTagPattern(pattern)(tag), expected);
    });
  }

  it('reports unusable patterns', () => {
    assert.equal(tagPatternProblem(''), 'a tag pattern cannot be empty');
    assert.match(tagPatternProblem('plant/#/state') ?? '', /`#` must be the last level/);
    assert.equal(tagPatternProblem('plant/+/#'), undefined);
    assert.throws(() => compileTagPattern('a/#/b'), /must be the last level/);
  });

  it('knows which patterns have wildcards', () => {
    assert.deepEqual(['Press1.Count', 'a+b', 's=#1', 'Press1.*', 'a/+/b', 'a/#'].map(hasWildcard), [false, false, false, true, true, true]);
  });
});

describe('source matching', () => {
  it('matches the source by exact name only', () => {
    assert.equal(matchSource('plc1', 'plc1'), true);
    assert.equal(matchSource('plc1', 'plc10'), false);
    assert.equal(matchSource('plc1', 'PLC1'), false);
  });

  it('needs both source and tag to match', () => {
    const m = signalMatcher('plc1', 'Press1.*');
    assert.equal(m({ source: 'plc1', tag: 'Press1.Count' }), true);
    assert.equal(m({ source: 'plc2', tag: 'Press1.Count' }), false);
    assert.equal(m({ source: 'plc1', tag: 'Press2.Count' }), false);
  });
});
