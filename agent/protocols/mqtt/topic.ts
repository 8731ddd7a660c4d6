/**
 * MQTT topic filters: checking a configured filter and matching a topic
 * against it. Pure functions, no I/O.
 *
 * A filter is a topic name in which a level may be `+` (exactly one level) and
 * the last level may be `#` (this level and everything below it). A shared
 * subscription `$share/<group>/<filter>` is matched by its inner filter.
 */

/** Why the filter is not valid, or undefined when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'a topic filter cannot be empty';
  if (Buffer.byteLength(filter, 'utf8') > 65535) return 'a topic filter is at most 65535 bytes';
  if (filter.includes('\u0000')) return 'a topic filter cannot contain the NUL character';
  let inner = filter;
  if (filter.startsWith('$share/')) {
    const rest = filter.slice('$share/'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return 'a shared subscription is $share/<group>/<filter>';
    const group = rest.slice(0, slash);
    if (/[+#]/.test(group)) return 'a shared subscription group name cannot contain + or #';
    inner = rest.slice(slash + 1);
    if (inner.length === 0) return 'a shared subscription needs a filter after the group name';
  }
  const levels = inner.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#')) {
      if (level !== '#') return `'#' must occupy a whole level (level ${i + 1}: '${level}')`;
      if (i !== levels.length - 1) return "'#' is allowed only as the last level";
    }
    if (level.includes('+') && level !== '+') return `'+' must occupy a whole level (level ${i + 1}: '${level}')`;
  }
  return undefined;
}

/** Why the topic name is not valid for publishing, or undefined when it is. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'a topic cannot be empty';
  if (Buffer.byteLength(topic, 'utf8') > 65535) return 'a topic is at most 65535 bytes';
  if (topic.includes('\u0000')) return 'a topic cannot contain the NUL character';
  if (/[+#]/.test(topic)) return 'a topic to publish on cannot contain the wildcards + or #';
  return undefined;
}

/** The filter a shared subscription applies (`$share/g/a/+` -> `a/+`); other filters unchanged. */
export function innerFilter(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(slash + 1);
}

/**
 * True when `topic` matches `filter`. Topics that begin with `$` (broker
 * statistics) are not matched by a filter that begins with a wildcard.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = innerFilter(filter).split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true; // also matches the parent level itself: 'a/#' matches 'a'
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
