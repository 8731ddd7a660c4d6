import type { Signal } from '../agent/model/signal';
import { RuleEngine, type ProcessContext } from '../agent/rules/engine';
import type { Figure } from './figure';
import { figure, median } from './figure';

/**
 * Template rules: messages mapped per second by JSONata expressions against
 * the agent's own template language, the same fields from the same messages,
 * in the same run (rounds alternate; medians). A second figure maps the MES
 * stop example (value map, default, time arithmetic), which only expressions
 * can do, against the same template baseline.
 */

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = 100;
const CTX: ProcessContext = { plant: 'bench', now: '2026-01-01T00:00:00.000Z' };

const base = { kind: 'template', source: 'mes', tag: 'mes/+/counters', type: 'production.reported' };

const templateRule = {
  ...base,
  name: 'template',
  payload: { production: '{{value.order}}', totalQuantity: '{{value.good|number}}', workcenter: '{{value.press}}' },
  occurredAt: '{{value.ts}}',
};

const expressionRule = {
  ...base,
  name: 'expression',
  payload: { production: '= value.order', totalQuantity: '= $number(value.good)', workcenter: '= value.press' },
  occurredAt: '= value.ts',
};

const mesStopRule = {
  kind: 'template',
  name: 'mes-stops',
  source: 'mes',
  tag: 'mes/+/counters',
  type: 'downtime.ended',
  maps: { lossReasons: { E12: 'Material Availability', E40: 'Equipment Failure' } },
  payload: {
    downtimeId: '= value.order',
    workcenter: '= value.press',
    reason: "= $lookup($maps.lossReasons, value.code) ?: 'Equipment Failure'",
    startedAt: '= $fromMillis($toMillis(value.ts) - value.duration_s * 1000)',
  },
  occurredAt: '= value.ts',
};

function batch(round: number, i: number): Signal[] {
  const out: Signal[] = [];
  for (let k = 0; k < BATCH; k++) {
    const n = i * BATCH + k;
    const ts = new Date(Date.UTC(2026, 0, 1) + n * 1000 + round).toISOString();
    out.push({
      source: 'mes',
      tag: 'mes/press1/counters',
      value: { order: `WH/MO/${n % 512}`, good: String(n), press: 'Press 1', ts, code: n % 2 ? 'E12' : 'E99', duration_s: 60 },
      quality: 'good',
      sourceTime: ts,
      receivedAt: ts,
    });
  }
  return out;
}

async function measure(rule: object, round: number): Promise<number> {
  const engine = RuleEngine.fromConfig([rule]);
  const useAsync = engine.needsAsync;
  let n = 0;
  let i = 0;
  const end = Date.now() + SECONDS * 1000;
  const start = process.hrtime.bigint();
  while (Date.now() < end) {
    const signals = batch(round, i++);
    const r = useAsync ? await engine.processAsync(signals, CTX) : engine.process(signals, CTX);
    if (r.events.length !== signals.length) throw new Error(`rule ${(rule as { name: string }).name}: ${r.invalid[0]?.reason ?? 'events missing'}`);
    n += signals.length;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

export async function run(): Promise<Figure[]> {
  const template: number[] = [];
  const expression: number[] = [];
  const mes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    template.push(await measure(templateRule, round));
    expression.push(await measure(expressionRule, round));
    mes.push(await measure(mesStopRule, round));
  }
  const t = median(template);
  return [
    figure(
      'mapping_jsonata_vs_template',
      'messages/s',
      median(expression),
      t,
      'reported (no target)',
      'same fields from the same messages: JSONata expressions (processAsync) / the template language (process)',
    ),
    figure(
      'mapping_mes_stop_jsonata',
      'messages/s',
      median(mes),
      t,
      'reported (no target)',
      'MES stop: value map, default, time arithmetic / the plain template mapping',
    ),
  ];
}
