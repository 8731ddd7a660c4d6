import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The agent's version, from package.json (dist/agent/version.js is two levels below it). */
export const AGENT_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();
