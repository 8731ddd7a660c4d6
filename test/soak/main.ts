/**
 * `npm run soak`: the full soak (test/soak/driver.ts), one JSON summary on
 * stdout, progress on stderr; exit 1 when anything owed is lost, doubled or
 * out of order, or the agent ended by itself other than on a full disk.
 *
 *   npm run soak -- [--kills 200] [--seed N] [--tick-ms 50] [--life-ms 500-4000]
 *
 * or the same through SOAK_KILLS, SOAK_SEED (EDGE_TEST_SEED too),
 * SOAK_TICK_MS, SOAK_LIFE_MS. Without a seed a new one is drawn and printed
 * first. With ODOO_URL (and ODOO_DB, ODOO_API_KEY, ODOO_ADMIN_API_KEY) it
 * delivers to that Odoo instead of the simulator, without fault storms.
 */
import { format } from 'node:util';
import { runSoak, type SoakSummary } from './driver';

function option(argv: string[], name: string, envName: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`--${name} needs a value`);
    return v;
  }
  return process.env[envName] || undefined;
}

function whole(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a whole number >= 0, not "${text}"`);
  return n;
}

export function failed(s: SoakSummary): boolean {
  return s.lost > 0 || s.doubled > 0 || s.reordered > 0 || s.selfExits.other > 0 || s.finalExit !== 0 || s.problems.length > 0;
}

async function main(): Promise<void> {
  // stdout is the summary alone: what libraries print (node-opcua's warnings) goes to stderr.
  console.log = console.info = console.warn = (...args: unknown[]) => process.stderr.write(`${format(...args)}\n`);
  const argv = process.argv.slice(2);
  const kills = whole(option(argv, 'kills', 'SOAK_KILLS'), 'kills', 200);
  const seed = whole(option(argv, 'seed', 'SOAK_SEED') ?? process.env.EDGE_TEST_SEED, 'seed', Math.floor(Math.random() * 2 ** 32));
  const tickMs = whole(option(argv, 'tick-ms', 'SOAK_TICK_MS'), 'tick-ms', 50);
  const life = option(argv, 'life-ms', 'SOAK_LIFE_MS');
  let lifeMs: [number, number] | undefined;
  if (life !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(life);
    if (!m || Number(m[1]) >= Number(m[2])) throw new Error(`life-ms is a range of milliseconds like 500-4000, not "${life}"`);
    lifeMs = [Number(m[1]), Number(m[2])];
  }
  process.stderr.write(`soak: seed ${seed} (again: npm run soak -- --seed ${seed} --kills ${kills})\n`);
  // Ctrl-C or SIGTERM: the round under way ends, then everything the soak started is stopped and unmounted.
  const stop = new AbortController();
  const onSignal = () => {
    process.stderr.write('soak: stopping after this round\n');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const summary = await runSoak({ kills, seed, tickMs, lifeMs, abort: stop.signal, progress: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = failed(summary) ? 1 : 0;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  });
}
