import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A file system of its own (tmpfs of `sizeMb`) at a new directory under /tmp,
 * so a test can fill it; needs root (mount). Returns why it cannot, as text,
 * when mount is refused.
 */
export function smallDisk(name: string, sizeMb: number): { dir: string; unmount(): void } | string {
  const dir = join('/tmp', `${name}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a small tmpfs to fill (${(r.stderr || r.error?.message || '').trim()}): run as root`;
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
