/**
 * Which signals a rule reads: the source by its exact configured name, the tag
 * by a pattern. Pure; compiled once when the rule is created.
 *
 * Tag patterns:
 *   - no wildcard               exact tag name (`ns=2;s=Press1.Count`, `plant/line1/order`)
 *   - `*`                       any run of characters, `/` included (`Press1.*`, `*`)
 *   - `+` as a whole level      exactly one topic level (`plant/+/state` matches `plant/press1/state`)
 *   - `#` as the last level     that level and everything below it (`plant/line1/#` also matches `plant/line1`)
 *
 * Levels are separated by `/`, as in MQTT. A `+` or `#` inside a level
 * (`A+B`, `s=#1`) is an ordinary character. Like an MQTT broker, a pattern that
 * begins with `+` or `#` does not match tags beginning with `$` (`$SYS/...`).
 */

export type TagMatcher = (tag: string) => boolean;

/** Why a tag pattern cannot be used, or undefined when it is fine. */
export function tagPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'a tag pattern cannot be empty';
  const levels = pattern.split('/');
  const hash = levels.indexOf('#');
  if (hash !== -1 && hash !== levels.length - 1) return '`#` must be the last level of a tag pattern (as in `plant/line1/#`)';
  return undefined;
}

/** True when the pattern holds any wildcard; false means it only matches itself. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.split('/').some((level) => level === '+' || level === '#');
}

/** Compile a tag pattern; throws when `tagPatternProblem` reports a problem. */
export function compileTagPattern(pattern: string): TagMatcher {
  const problem = tagPatternProblem(pattern);
  if (problem) throw new Error(`tag pattern "${pattern}": ${problem}`);
  if (!hasWildcard(pattern)) return (tag) => tag === pattern;

  const levels = pattern.split('/');
  const endsWithHash = levels[levels.length - 1] === '#';
  const body = endsWithHash ? levels.slice(0, -1) : levels;
  let source = body.map((level) => (level === '+' ? '[^/]*' : level.split('*').map(escapeRegExp).join('.*'))).join('/');
  if (endsWithHash) source = body.length === 0 ? '.*' : `${source}(?:/.*)?`;
  const re = new RegExp(`^${source}$`, 's');
  const first = levels[0];
  const guardDollar = first === '+' || first === '#';
  return (tag) => !(guardDollar && tag.startsWith('$')) && re.test(tag);
}

/** One-off match of a tag against a pattern (compiles each call: use `compileTagPattern` in hot paths). */
export function matchTag(pattern: string, tag: string): boolean {
  return compileTagPattern(pattern)(tag);
}

/** A source matches by its exact configured name. */
export function matchSource(expected: string, source: string): boolean {
  return expected === source;
}

/** A compiled matcher for a source name and a tag pattern. */
export function signalMatcher(source: string, tagPattern: string): (signal: { source: string; tag: string }) => boolean {
  const tag = compileTagPattern(tagPattern);
  return (signal) => matchSource(source, signal.source) && tag(signal.tag);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
