import { spawn } from 'node:child_process';

/**
 * Run a child script that prints one line per acknowledged item; once more
 * than `armAfter` lines were parsed, SIGKILL it after 50-450 ms, drawn from
 * `random` (a seeded generator: helpers/seed.ts).
 * Resolves with what it acknowledged; rejects if it ends by itself.
 */
export function runUntilKilled<T>(script: string, args: string[], parse: (line: string) => T | undefined, random: () => number, armAfter = 50): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: T[] = [];
    let buf = '';
    let armed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const item = parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (item !== undefined) acked.push(item);
      }
      if (!armed && acked.length > armAfter) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), 50 + Math.floor(random() * 400));
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`child ended by itself (${signal ?? code})`))));
  });
}
