import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentView } from '../../agent/runtime/view';
import { createMetrics } from '../../agent/http/metrics';
import type { RequestObservation } from '../../agent/sync/worker';
import { Browser, startSite, type TestSite } from './helpers';

/** The value of one series in Prometheus text, or undefined when it is not there. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  let site: TestSite;
  before(async () => {
    site = await startSite({ users: false });
    const t = new Date().toISOString();
    await site.agent.pipeline.emit([
      { source: 'line1-plc', tag: 'press1.count', value: 41, quality: 'good', sourceTime: t, receivedAt: t },
      { source: 'line1-plc', tag: 'press1.count', value: 42, quality: 'good', sourceTime: t, receivedAt: t },
    ]);
  });
  after(() => site.close());

  it('serves /metrics in Prometheus text with outbox, source and Odoo series', async () => {
    const res = await new Browser(site.url).request('/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    assert.equal(value(text, 'edge_events_received_total{source="line1-plc"}'), 2);
    assert.equal(value(text, 'edge_outbox_events{state="pending"}'), 2);
    assert.equal(value(text, 'edge_outbox_events{state="parked"}'), 1);
    assert.ok(value(text, 'edge_outbox_oldest_pending_age_seconds')! >= 0);
    assert.equal(value(text, 'edge_odoo_up'), 0);
    assert.equal(value(text, 'edge_odoo_circuit_state{state="closed"}'), 0);
    assert.equal(value(text, 'edge_source_connected{source="packing-scale",type="mqtt"}'), 0);
    for (const name of [
      'edge_events_enqueued_total',
      'edge_events_duplicate_total',
      'edge_events_sent_total',
      'edge_events_parked_total',
      'edge_odoo_request_duration_seconds',
      'edge_errors_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} (counter|histogram)$`, 'm'), name);
    }
    assert.match(text, /^process_resident_memory_bytes \d+/m, 'the process figures too');
  });

  it('counts sent and parked events, request durations and errors from settled Odoo requests', async () => {
    const listeners: Array<(o: RequestObservation) => void> = [];
    const agent: AgentView = { ...site.agent.view, onRequest: (l) => listeners.push(l) };
    const registry = createMetrics(agent, { defaultMetrics: false });
    const observe = (o: RequestObservation) => listeners.forEach((l) => l(o));
    observe({ type: 'production.reported', events: 10, durationMs: 120, result: 'done' });
    observe({ type: 'production.reported', events: 5, durationMs: 80, result: 'done' });
    observe({ type: 'downtime.started', events: 1, durationMs: 300, result: 'park', errorClass: 'ValidationError' });
    observe({ type: 'downtime.started', events: 1, durationMs: 10_000, result: 'retry', errorClass: 'ECONNREFUSED' });
    const text = await registry.metrics();
    assert.equal(value(text, 'edge_events_sent_total{type="production.reported"}'), 15);
    assert.equal(value(text, 'edge_events_parked_total{type="downtime.started"}'), 1);
    assert.equal(value(text, 'edge_errors_total{class="ValidationError"}'), 1);
    assert.equal(value(text, 'edge_errors_total{class="ECONNREFUSED"}'), 1);
    assert.equal(value(text, 'edge_odoo_requests_total{type="downtime.started",result="retry"}'), 1);
    assert.equal(value(text, 'edge_odoo_request_duration_seconds_count{type="production.reported"}'), 2);
    assert.equal(value(text, 'edge_odoo_request_duration_seconds_bucket{le="0.1",type="production.reported"}'), 1);
    assert.equal(value(text, 'edge_odoo_request_duration_seconds_sum{type="downtime.started"}'), 10.3);
    assert.doesNotMatch(text, /^process_/m);
  });

  it('keeps its own registry: two agents do not mix figures', async () => {
    const a = createMetrics(site.agent.view, { defaultMetrics: false });
    const b = createMetrics(site.agent.view, { defaultMetrics: false });
    assert.notEqual(a, b);
    assert.equal(value(await a.metrics(), 'edge_outbox_events{state="parked"}'), 1);
    assert.equal(value(await b.metrics(), 'edge_outbox_events{state="parked"}'), 1);
  });
});
