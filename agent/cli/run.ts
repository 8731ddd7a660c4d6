import { existsSync } from 'node:fs';
import { loadConfigFile } from '../config/load';
import { ConfigError, errorMessage } from '../errors';
import { rootLogger, setLogLevel } from '../log';
import { startAgent, waitForSignal, type RunningAgent } from '../runtime/agent';

export const DEFAULT_CONFIG_PATH = '/etc/edge-agent/config.yaml';

/**
 * `edge-agent run`: with a config file, the agent; with none (no argument and
 * no /etc/edge-agent/config.yaml), the demo. Runs until SIGTERM or SIGINT;
 * SIGHUP (`systemctl reload`) reads the file again and applies it.
 * Fails with HTTP_LISTEN when the status page cannot listen, unless
 * `http.optional`.
 */
export async function runAgent(configPath?: string): Promise<number> {
  const path = configPath ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  if (!path) {
    const { runDemo } = await import('../demo/demo');
    return runDemo({});
  }
  const { config } = loadConfigFile(path);
  setLogLevel(config.log.level);
  const agent = await startAgent(config);
  let http;
  try {
    http = config.http.enabled ? await (await import('../http/server')).startHttp(agent) : undefined;
  } catch (err) {
    // No page, no agent (unless http.optional): the caller exits 69 and systemd tries again.
    await agent.stop();
    throw err;
  }
  const onHangup = () => void reloadFrom(path, agent);
  process.on('SIGHUP', onHangup);
  const keyWatch = watchApiKey(path, agent);
  // Runs until a signal, or until the look at the outbox file finds damage (the caller exits 65).
  let damage: unknown;
  await Promise.race([waitForSignal(), agent.structureChecked.then(() => new Promise<void>(() => undefined)).catch((err: unknown) => void (damage = err))]);
  clearInterval(keyWatch);
  process.off('SIGHUP', onHangup);
  await http?.close();
  await agent.stop();
  if (damage) throw damage;
  return 0;
}

/**
 * While Odoo refuses the API key, read the key again (the credential file,
 * the environment) every few seconds: a rotated key is taken without a
 * restart. Only the key changes; the rest of the file waits for a reload.
 */
function watchApiKey(path: string, agent: RunningAgent, everyMs = 3000): NodeJS.Timeout {
  const log = rootLogger().child({ component: 'agent' });
  let busy = false;
  const timer = setInterval(() => {
    const running = agent.config.odoo;
    if (busy || !running || agent.view.sync()?.circuit !== 'auth-failed') return;
    let key: string | undefined;
    try {
      key = loadConfigFile(path).config.odoo?.apiKey;
    } catch {
      return; // a file that does not load now is a matter for the next reload
    }
    if (!key || key === running.apiKey) return;
    busy = true;
    log.info('a new Odoo API key was read: the link to Odoo starts again with it');
    agent
      .reload({ ...agent.config, odoo: { ...running, apiKey: key } })
      .catch((err: unknown) => log.error({ err }, `the new API key was not applied: ${errorMessage(err)}`))
      .finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return timer;
}

/** Read the file again; an invalid or restart-only change is refused and the running configuration stays. */
async function reloadFrom(path: string, agent: RunningAgent): Promise<void> {
  const log = rootLogger().child({ component: 'agent' });
  log.info({ file: path }, 'SIGHUP: reading the configuration again');
  try {
    await agent.reload(loadConfigFile(path).config);
  } catch (err) {
    if (err instanceof ConfigError)
      log.error({ problems: err.problems }, `the new configuration is invalid; the running one stays:\n${err.problems.join('\n')}`);
    else log.error({ err }, `the new configuration was not applied; the running one stays: ${errorMessage(err)}`);
  }
}
