/**
 * "Did you mean": the names Odoo has that are nearest to a name it does not
 * have, by edit distance (case, accents and repeated spaces ignored). Pure.
 */

/** Levenshtein distance: single-character insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}

function fold(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** Every word of `a` is in `b`: the same, or one edit away for words of 4 letters or more (`Drill 1` in `Drill Station 1`). */
function wordsWithin(a: string, b: string): boolean {
  const theirs = b.split(' ');
  return a.split(' ').every((w) => theirs.some((t) => t === w || (w.length >= 4 && editDistance(w, t) <= 1)));
}

/**
 * Up to `limit` candidates close to `name`, nearest first. A candidate counts
 * as close when at most a third of its characters differ (at least 2 edits
 * allowed), when one name holds the other (`Press` and `Press 1`), or when
 * the words of one are all in the other (`Asembly 1` and `Assembly Line 1`).
 */
export function closestNames(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const target = fold(name);
  const ranked: Array<{ text: string; score: number }> = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c) || c.trim() === '') continue;
    seen.add(c);
    const folded = fold(c);
    if (folded === target) {
      ranked.push({ text: c, score: 0 });
      continue;
    }
    const d = editDistance(target, folded);
    const allowed = Math.max(2, Math.floor(Math.max(target.length, folded.length) / 3));
    const contains = target.length >= 3 && folded.length >= 3 && (folded.includes(target) || target.includes(folded));
    if (d <= allowed) ranked.push({ text: c, score: d });
    else if (contains || wordsWithin(target, folded) || wordsWithin(folded, target)) ranked.push({ text: c, score: allowed + d / 1000 });
  }
  ranked.sort((x, y) => x.score - y.score || x.text.localeCompare(y.text));
  // The same name but for case or accents is the answer; nothing else is worth showing beside it.
  const same = ranked.filter((r) => r.score === 0);
  return (same.length > 0 ? same : ranked).slice(0, limit).map((r) => r.text);
}
