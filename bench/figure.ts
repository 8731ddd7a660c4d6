/** One benchmark figure: the agent's value, a baseline measured in the same run, their ratio and the goal. */
export interface Figure {
  name: string;
  unit: string;
  value: number;
  baseline: number;
  ratio: number;
  target: string;
  note?: string;
}

export function figure(name: string, unit: string, value: number, baseline: number, target: string, note?: string): Figure {
  const round = (x: number) => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000);
  return {
    name,
    unit,
    value: round(value),
    baseline: round(baseline),
    ratio: baseline ? Math.round((value / baseline) * 1000) / 1000 : 0,
    target,
    ...(note ? { note } : {}),
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}
