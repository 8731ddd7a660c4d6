import type { ReleaseStatus } from '../release/release';
import { clip, esc, formatAge, formatClock, formatCount } from './format';

const PROBLEM_NAMES: Record<string, string> = {
  'unknown-workcenter': 'unknown work center',
  'foreign-content': 'foreign content on a topic',
  'unknown-ack': 'acknowledgement of an unknown order',
  'bad-ack': 'unreadable acknowledgement',
  'write-refused': 'write refused by a line',
};

/** How old the release's list is: "as of 14:07:31 (2 min ago)", or "never read from Odoo". */
export function releaseAge(r: ReleaseStatus, now: number): string {
  return r.asOf === null ? 'never read from Odoo' : `as of ${formatClock(r.asOf, now)} (${formatAge(r.asOf, now)})`;
}

/** Whether the line received a work center's current order: '' (no current order), "not acknowledged", or what it received and when. */
export function headAck(w: ReleaseStatus['workcenters'][number], now: number): string {
  if (w.head === null) return '';
  if (w.headAckedAt === null) return 'not acknowledged';
  return `${w.headAckCurrent ? 'received by the line' : 'an older version received'} ${formatAge(w.headAckedAt, now)}`;
}

/** The status page's order release section: how old the list is, each work center's queue and acknowledgement, writes, problems. */
export function releaseSection(r: ReleaseStatus | undefined, now: number): string {
  if (!r) return '';
  const age = releaseAge(r, now);
  const odoo = r.odoo.reachable
    ? '<span class="pill ok">Odoo read</span>'
    : `<span class="pill alarm">Odoo unreachable</span> <span class="muted">since ${esc(r.odoo.unreachableSince === null ? '?' : formatClock(r.odoo.unreachableSince, now))}: the list below is kept</span>`;
  const writes = new Map(r.writes.map((w) => [w.workcenter, w]));
  const rows = r.workcenters.map((w) => {
    const ack = w.head !== null && w.headAckedAt === null ? `<span class="muted">${esc(headAck(w, now))}</span>` : esc(headAck(w, now));
    const lw = writes.get(w.name);
    const write = !lw
      ? ''
      : lw.ok === null
        ? '<span class="muted">not written yet</span>'
        : lw.ok
          ? `written ${esc(lw.at ? formatAge(lw.at, now) : '')}`
          : `<span class="pill alarm">failed</span> ${esc(clip(lw.lastError ?? '', 160))}`;
    return `<tr><td>${esc(w.name)}</td><td>${formatCount(w.queue)}</td><td>${esc(w.head ?? '–')}</td><td>${ack}</td><td>${write}${lw ? ` <span class="muted">${formatCount(lw.failures)} failed of ${formatCount(lw.writes)}</span>` : ''}</td></tr>`;
  });
  const problems = Object.entries(r.problems.counts);
  const total = problems.reduce((n, [, c]) => n + (c ?? 0), 0);
  const problemList = r.problems.latest
    .slice(0, 5)
    .map(
      (p) =>
        `<li>${esc(PROBLEM_NAMES[p.kind] ?? p.kind)}: ${esc(clip(p.detail, 200))} <span class="muted">×${formatCount(p.count)}, ${esc(formatAge(p.lastAt, now))}</span></li>`,
    )
    .join('');
  return (
    `<section id="release"><h2>Order release <span class="count">${formatCount(r.orders)}</span></h2>` +
    `<p>${odoo} · ${esc(age)} · ${formatCount(r.acks.received)} acknowledgements${r.mqtt ? ` · ${formatCount(r.mqtt.published)} published, ${formatCount(r.mqtt.failed)} failed` : ''}</p>` +
    (rows.length
      ? `<div class="scroll"><table><thead><tr><th>Work center</th><th>Queue</th><th>Current order</th><th>Line</th><th>Writes</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
      : '') +
    (total
      ? `<p>Problems <span class="count warn">${formatCount(total)}</span>: ${problems.map(([k, c]) => `${esc(PROBLEM_NAMES[k] ?? k)} ${formatCount(c ?? 0)}`).join(' · ')}</p><ul>${problemList}</ul>`
      : '') +
    `</section>`
  );
}
