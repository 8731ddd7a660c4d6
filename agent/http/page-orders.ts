import type { OrderSyncRow, OrderSyncView, OrderVerdict } from '../sync/order-view';
import type { StoredRun } from '../sync/reconcile/job';
import { totals } from '../sync/reconcile/reconcile';
import { esc, formatAge, formatClock, formatCount } from './format';

/** The status page's per-order sync view and last reconciliation against Odoo. Pure. */

const LEVEL: Record<OrderVerdict, string> = { 'in-sync': 'ok', pending: '', parked: 'alarm', differs: 'alarm', unknown: 'warn' };
const SHOWN = 50;

export function ordersSection(v: OrderSyncView | undefined, now: number): string {
  if (!v) return '';
  const bad = v.counts.differs + v.counts.parked;
  const age =
    v.odooReadAt === null
      ? "Odoo's side has not been read yet."
      : `Odoo's side as read ${esc(formatAge(v.odooReadAt, now))} (${esc(formatClock(v.odooReadAt, now))}); while Odoo is out of reach it stays as last read.`;
  const rows = v.orders.slice(0, SHOWN).map((r) => orderRow(r, now));
  const more =
    v.orders.length > SHOWN ? `<p class="muted">Showing ${SHOWN} of ${formatCount(v.orders.length)}; <code>edge-agent orders</code> lists all.</p>` : '';
  return (
    `<section id="orders"><h2>Orders <span class="count ${bad ? 'alarm' : ''}">${formatCount(v.orders.length)}</span></h2>` +
    `<p class="muted">${age} Each open order the plant reported on: what Odoo holds next to what the plant sent.</p>` +
    (rows.length
      ? `<div class="scroll"><table><thead><tr><th>Order</th><th>Verdict</th><th>Odoo</th><th>Produced (Odoo / plant)</th><th>Scrapped (Odoo / plant)</th><th>Events done / to send / parked</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
      : '<p class="muted">No open orders with events from this plant.</p>') +
    more +
    `</section>`
  );
}

function orderRow(r: OrderSyncRow, now: number): string {
  const o = r.odoo;
  const produced = o ? (o.state === 'done' ? o.qtyProduced : o.qtyProducing) : null;
  return (
    `<tr data-order="${esc(r.order)}" data-verdict="${r.verdict}"><td><b>${esc(r.order)}</b></td>` +
    `<td><span class="count ${LEVEL[r.verdict]}">${esc(r.text)}</span></td>` +
    `<td>${o ? `${esc(o.state)} <span class="muted">${esc(formatAge(o.readAt, now))}</span>` : '<span class="muted">not read</span>'}</td>` +
    `<td class="num">${produced ?? '-'}${o ? ` of ${o.productQty}` : ''} / ${r.plant.produced ?? '-'}</td>` +
    `<td class="num">${o ? o.scrapped : '-'} / ${r.plant.scrapped}</td>` +
    `<td class="num">${formatCount(r.plant.done)} / ${formatCount(r.plant.pending)} / ${formatCount(r.plant.parked)}</td></tr>`
  );
}

export function reconcileSection(run: StoredRun | undefined, now: number): string {
  if (!run) return '';
  const r = run.result;
  const t = totals(r);
  const bad = t.missing + t.duplicated + t.differs;
  const list = [
    ...r.missing.map((e) => ({ ...e, kind: 'missing' })),
    ...r.duplicated.map((e) => ({ ...e, kind: 'duplicated' })),
    ...r.differs.map((e) => ({ ...e, kind: 'differs' })),
  ]
    .slice(0, 20)
    .map(
      (e) =>
        `<tr><td><code>${esc(e.id)}</code></td><td>${esc(e.type)}</td><td>${esc(e.kind)}</td><td>${esc(e.model ?? '')} ${e.recordId ?? ''}</td>` +
        `<td>${esc(e.what ?? (e.differences ?? []).map((d) => `${d.field}: event ${JSON.stringify(d.event)}, Odoo ${JSON.stringify(d.odoo)}`).join('; '))}</td></tr>`,
    );
  return (
    `<section id="reconcile"><h2>Reconciliation with Odoo <span class="count ${bad ? 'alarm' : ''}">${formatCount(bad)}</span></h2>` +
    `<p>Last run ${esc(formatAge(run.finishedAt, now))} (${esc(r.by ?? '')}): ${formatCount(t.checked)} events delivered ${esc(r.since)} .. ${esc(r.until)} read back in ${formatCount(r.requests)} requests: ` +
    `${formatCount(t.ok)} as sent, <b>${formatCount(t.missing)}</b> missing, <b>${formatCount(t.duplicated)}</b> duplicated, <b>${formatCount(t.differs)}</b> differing.</p>` +
    (r.replayIds.length
      ? `<p>Re-send the missing ones: <code>edge-agent outbox replay ${esc(r.replayIds.slice(0, 10).join(' '))}${r.replayIds.length > 10 ? ' ...' : ''}</code></p>`
      : '') +
    (list.length
      ? `<div class="scroll"><table><thead><tr><th>Event</th><th>Type</th><th>Found</th><th>Odoo record</th><th>What</th></tr></thead><tbody>${list.join('')}</tbody></table></div>`
      : '') +
    `</section>`
  );
}
