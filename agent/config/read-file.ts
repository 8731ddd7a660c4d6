import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/** `reason` fits in `cannot read PATH (reason)`: an error code (ENOENT) or what is wrong with the file. */
export type FileRead = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/**
 * Read a file the config names (the config itself, a secret) with a size
 * limit. Only a regular file is read: a device (`/dev/zero`), a pipe or a
 * directory is refused by what it is, before it is opened, so a wrong path
 * can neither hang the agent nor fill its memory.
 */
export function readRegularFile(path: string, maxBytes: number): FileRead {
  let fd: number | undefined;
  try {
    const before = statSync(path);
    if (!before.isFile()) return { ok: false, reason: `not a regular file: ${kind(before)}` };
    // Non-blocking: if it was swapped for a pipe since, opening must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, reason: `not a regular file: ${kind(st)}` };
    // Read until the end, never more than one byte past the limit: some files (in /proc) say they are empty and are not.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(65_536, maxBytes + 1 - total));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      total += got;
      if (total > maxBytes) return { ok: false, reason: `larger than ${formatBytes(maxBytes)}` };
    }
    return { ok: true, bytes: Buffer.concat(chunks, total) };
  } catch (err) {
    return { ok: false, reason: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

export function formatBytes(n: number): string {
  return n % 1_048_576 === 0 ? `${n / 1_048_576} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}
