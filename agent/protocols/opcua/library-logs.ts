import { format } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';
import { componentLogger } from '../../log';

let routed = false;

/**
 * node-opcua writes its own warnings with console.log, which would mix plain
 * text into the agent's JSON log on stdout. Route them into pino instead:
 * library warnings at debug (they are chatty during every reconnect), library
 * errors at warn, at most 30 a minute.
 */
export function routeLibraryLogs(): void {
  if (routed) return;
  routed = true;
  const log = componentLogger('opcua-library');
  let windowStart = 0;
  let inWindow = 0;
  const text = (args: unknown[]) =>
    format(...args.slice(1))
      .replace(/\u001b\[[0-9;]*m/g, '')
      .slice(0, 2000);
  setWarningLogger((...args: unknown[]) => {
    if (log.isLevelEnabled('debug')) log.debug({ at: (args[0] as { filename?: string } | undefined)?.filename }, text(args));
  });
  setErrorLogger((...args: unknown[]) => {
    const now = Date.now();
    if (now - windowStart > 60_000) {
      windowStart = now;
      inWindow = 0;
    }
    if (++inWindow > 30) return;
    log.warn({ at: (args[0] as { filename?: string } | undefined)?.filename }, text(args));
  });
}
