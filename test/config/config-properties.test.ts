import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfigText } from '../../agent/config/load';
import { ConfigError } from '../../agent/errors';
import { propertyRuns } from '../helpers/property';

/**
 * Whatever a config file holds, loading it either gives a config or a
 * ConfigError whose every problem names the file, a line and a column (what
 * check-config prints before it exits 78). Nothing else may escape.
 */

const example = readFileSync(join(process.cwd(), 'config.example.yaml'), 'utf8');
const exampleLines = example.split('\n');
const SECRETS = { ODOO_API_KEY: 'k', MQTT_PASSWORD: 'k', OPCUA_PASSWORD: 'k' };
let saved: NodeJS.ProcessEnv;
before(() => {
  saved = { ...process.env };
  Object.assign(process.env, SECRETS);
});
after(() => {
  process.env = saved;
});

const PROBLEM = /^plant\.yaml:\d+:\d+: \S/;

/** Load `text`; fails the property when anything but a well-formed ConfigError comes out. */
function loadsOrExplains(text: string): void {
  try {
    parseConfigText(text, 'plant.yaml');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(err)}`, { cause: err });
    assert.ok(err.problems.length > 0, 'a ConfigError lists its problems');
    for (const p of err.problems) {
      for (const line of p.split('\n')) assert.match(line, PROBLEM);
      // The last resort in parseConfigText: each problem should have its own words.
      assert.doesNotMatch(p, /cannot be read as a config/, p);
    }
  }
}

/** Values that have broken configs before, or could. */
const hostile = fc.constantFrom(
  '',
  '~',
  '-1',
  '1e309',
  '99999999999999999999',
  '0x10',
  '.nan',
  'true',
  '*nope',
  '&a x',
  '!!binary aGVsbG8=',
  '!!timestamp 2001-12-14',
  '!!set {a, b}',
  '!!omap [a: 1]',
  '!custom x',
  '[',
  '{',
  '"unclosed',
  "'",
  '|',
  '>-',
  '? x',
  '<<: *a',
  '${file:/dev/zero}',
  '${file:/proc/self/environ}',
  '${env:NOT_SET_ANYWHERE}',
  '${credential:../x}',
  'not-an-ip',
  '1-0 * * * *',
  '*/99999999999999999999 * * * *',
  '0 0 31 2 *',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  '{a: {a: {a: {a: {a: {a: 1}}}}}}',
  'é',
  '\u0000',
  '\ufeff',
  '\t',
);

const yamlChars = fc.constantFrom(...'a1: \n-[]{}&*!|>"\'#?,%@`\t~<\\.$'.split(''));

type Mutation = (lines: string[]) => string[];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A value replaced.
  fc.tuple(fc.nat(), fc.oneof(hostile, fc.string({ maxLength: 20 }))).map(([i, v]): Mutation => (lines) => {
    const at = i % lines.length;
    const m = /^(\s*(?:- )?[A-Za-z]+:)/.exec(lines[at]!);
    return lines.map((l, j) => (j === at ? (m ? `${m[1]} ${v}` : `${l}${v}`) : l));
  }),
  // A line dropped, doubled or moved.
  fc.nat().map(
    (i): Mutation =>
      (lines) =>
        lines.filter((_, j) => j !== i % lines.length),
  ),
  fc.nat().map(
    (i): Mutation =>
      (lines) =>
        lines.flatMap((l, j) => (j === i % lines.length ? [l, l] : [l])),
  ),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]): Mutation => (lines) => {
    const out = [...lines];
    const x = a % out.length;
    const y = b % out.length;
    [out[x], out[y]] = [out[y]!, out[x]!];
    return out;
  }),
  // Indentation changed.
  fc.tuple(fc.nat(), fc.integer({ min: -4, max: 4 })).map(
    ([i, d]): Mutation =>
      (lines) =>
        lines.map((l, j) => (j === i % lines.length ? (d > 0 ? ' '.repeat(d) + l : l.slice(Math.min(-d, l.length - l.trimStart().length))) : l)),
  ),
  // A commented-out option switched on (optional sections).
  fc.nat().map((i): Mutation => (lines) => {
    const commented = lines.map((l, j) => [l, j] as const).filter(([l]) => /^\s*# ?[a-zA-Z-]/.test(l));
    if (commented.length === 0) return lines;
    const [, at] = commented[i % commented.length]!;
    return lines.map((l, j) => (j === at ? l.replace(/#\s?/, '') : l));
  }),
  // Random YAML syntax inserted.
  fc.tuple(fc.nat(), fc.string({ unit: yamlChars, maxLength: 30 })).map(([i, s]): Mutation => (lines) => {
    const at = i % lines.length;
    return [...lines.slice(0, at), s, ...lines.slice(at)];
  }),
  // Cut off somewhere.
  fc.nat().map(
    (i): Mutation =>
      (lines) =>
        lines.slice(0, (i % lines.length) + 1),
  ),
);

describe('config property tests', () => {
  it('a mutated config.example.yaml loads or gives problems at file:line:col', (t) => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const lines = mutations.reduce((acc, m) => m(acc), exampleLines);
        loadsOrExplains(lines.join('\n'));
      }),
      propertyRuns(t, 300),
    );
  });

  it('random YAML syntax loads or gives problems at file:line:col', (t) => {
    fc.assert(
      fc.property(fc.string({ unit: yamlChars, maxLength: 200 }), (text) => {
        loadsOrExplains(text);
      }),
      propertyRuns(t, 300),
    );
  });

  it('random documents (any JSON value, as YAML) load or give problems at file:line:col', (t) => {
    const doc = fc.oneof(
      fc.jsonValue({ maxDepth: 6 }),
      fc.record({
        plant: fc.record({ id: fc.oneof(fc.constant('plant1'), fc.string()) }),
        http: fc.jsonValue({ maxDepth: 3 }),
        schedules: fc.jsonValue({ maxDepth: 3 }),
      }),
    );
    fc.assert(
      fc.property(doc, fc.boolean(), (value, flow) => {
        loadsOrExplains(stringify(value, { collectionStyle: flow ? 'flow' : 'any' }));
      }),
      propertyRuns(t, 300),
    );
  });

  it('deep nesting in any style is a problem at its line', (t) => {
    const deep = fc.tuple(fc.integer({ min: 65, max: 5000 }), fc.constantFrom('flow-seq', 'flow-map', 'block-seq', 'block-map')).map(([n, style]) => {
      if (style === 'flow-seq') return `rules: ${'['.repeat(n)}${']'.repeat(n)}\n`;
      if (style === 'flow-map') return `rules: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`;
      if (style === 'block-seq') return `rules:\n${'- '.repeat(n)}1\n`;
      return `rules:\n${Array.from({ length: Math.min(n, 400) }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')} 1\n`;
    });
    fc.assert(
      fc.property(deep, (text) => {
        assert.throws(
          () => parseConfigText(`plant:\n  id: p\n${text}`, 'plant.yaml'),
          (e: unknown) => e instanceof ConfigError && /^plant\.yaml:\d+:\d+: \(yaml\): nested deeper than 64 levels$/.test(e.problems[0]!),
        );
      }),
      propertyRuns(t, 40),
    );
  });
});
