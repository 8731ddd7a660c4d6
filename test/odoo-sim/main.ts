/**
 * Run the Odoo simulator on its own (for the demo or by hand):
 *
 *   node <build>/test/odoo-sim/main.js --port 8069 [--version 19] [--db edge]
 *        [--login edge-bot] [--api-key KEY] [--no-seed] [--modules quality_control]
 *        [--host 127.0.0.1] [--latency-ms 20]
 *
 * The first line printed is the URL; the next lines give the database, login,
 * API key (also ODOO_SIM_API_KEY from the environment) and the administrator's
 * API key (to make master data as a person would). Faults are set
 * over HTTP: POST /__sim/faults {"kind":"status","status":503,"forMs":10000}.
 */
import { startOdooSim, type OdooSimOptions } from './server';

function parseArgs(argv: string[]): OdooSimOptions {
  const opts: OdooSimOptions = { port: 8069, apiKey: process.env.ODOO_SIM_API_KEY || undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--port':
        opts.port = Number(next());
        break;
      case '--host':
        opts.host = next();
        break;
      case '--version': {
        const v = Number(next());
        if (v !== 17 && v !== 18 && v !== 19) throw new Error('--version must be 17, 18 or 19');
        opts.version = v;
        break;
      }
      case '--db':
        opts.db = next();
        break;
      case '--login':
        opts.login = next();
        break;
      case '--api-key':
        opts.apiKey = next();
        break;
      case '--no-seed':
        opts.seed = false;
        break;
      case '--modules':
        opts.modules = next().split(',').filter(Boolean);
        break;
      case '--latency-ms':
        opts.latencyMs = Number(next());
        break;
      case '--help':
      case '-h':
        process.stdout.write(
          'usage: main.js [--port 8069] [--version 17|18|19] [--db edge] [--login edge-bot] [--api-key KEY] [--no-seed] [--modules a,b] [--host 127.0.0.1] [--latency-ms N]\n',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: OdooSimOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`odoo-sim: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const sim = await startOdooSim(opts);
  process.stdout.write(`${sim.url}\n`);
  process.stdout.write(`database: ${sim.db}\nversion: ${sim.version}\nlogin: ${sim.login}\napi key: ${sim.apiKey}\nadmin api key: ${sim.adminApiKey}\n`);
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`odoo-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
