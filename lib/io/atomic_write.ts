/**
 * The one way the workspace writes a file that others may read while it is written (results,
 * checkpoints, weights, exports, caches): into a temporary file in the same folder, fsync,
 * then rename over the target. A reader sees the old file or the new one, never half of one;
 * a failed or killed write leaves at most a hidden temporary file, which the failure path
 * removes. The temporary name carries host, process and thread, so writers on several hosts
 * sharing one folder (sweep workers) never collide.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** The hidden temporary file `writeAtomic` uses for `path`. */
export function atomicTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${hostname()}-${process.pid}-${threadId}`);
}

/**
 * Write `data` (bytes, several byte chunks in order, or UTF-8 text) to `path` atomically.
 * @throws the file system's error (ENOENT for a missing folder, EACCES, ENOSPC, …) after
 *   removing the temporary file; the target is unchanged.
 */
export function writeAtomic(path: string, data: Uint8Array | readonly Uint8Array[] | string): void {
  const chunks =
    typeof data === 'string'
      ? [new TextEncoder().encode(data)]
      : data instanceof Uint8Array
        ? [data]
        : data;
  const tmp = atomicTempPath(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunks)
        for (let done = 0; done < c.length;) done += writeSync(fd, c, done, c.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
