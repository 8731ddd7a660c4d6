/**
 * `npm run bench`: one JSON line per figure, `{name, unit, value, baseline, ratio, target}`.
 * Every baseline is measured in the same run on the same machine. `npm run bench -- outbox sync`
 * runs only those groups. Each group runs in a process of its own (same Node flags), so what
 * one group left in the heap (the million-event outbox, say) does not weigh on the next one's figures.
 */
import { spawnSync } from 'node:child_process';
import type { Figure } from './figure';

const groups: Record<string, () => Promise<{ run(): Promise<Figure[]> }>> = {
  outbox: () => import('./outbox'),
  sync: () => import('./sync'),
  modbus: () => import('./modbus'),
  mqtt: () => import('./mqtt'),
  opcua: () => import('./opcua'),
  release: () => import('./release'),
  mapping: () => import('./mapping'),
  reconcile: () => import('./reconcile'),
  sparkplug: () => import('./sparkplug'),
};

async function main(): Promise<void> {
  process.env.EDGE_AGENT_LOG_LEVEL ??= 'silent';
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length ? wanted : Object.keys(groups);
  let failed = false;
  if (names.length > 1) {
    for (const name of names) {
      const child = spawnSync(process.execPath, [...process.execArgv, __filename, name], { stdio: 'inherit' });
      if (child.status !== 0) failed = true;
    }
    process.exitCode = failed ? 1 : 0;
    return;
  }
  for (const name of names) {
    const load = groups[name];
    if (!load) {
      process.stderr.write(`unknown bench group ${name} (known: ${Object.keys(groups).join(', ')})\n`);
      failed = true;
      continue;
    }
    try {
      const figures = await (await load()).run();
      for (const f of figures) process.stdout.write(`${JSON.stringify(f)}\n`);
    } catch (err) {
      failed = true;
      process.stderr.write(`bench ${name} failed: ${(err as Error).stack ?? String(err)}\n`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
