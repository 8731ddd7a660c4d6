import { existsSync } from 'node:fs';
import { loadConfigFile } from '../config/load';
import { setLogLevel } from '../log';
import { startAgent, waitForSignal } from '../runtime/agent';

export const DEFAULT_CONFIG_PATH = '/etc/edge-agent/config.yaml';

/**
 * `edge-agent run`: with a config file, the agent; with none (no argument and
 * no /etc/edge-agent/config.yaml), the demo. Runs until SIGTERM or SIGINT.
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
  await waitForSignal();
  await http?.close();
  await agent.stop();
  return 0;
}
