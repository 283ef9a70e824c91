/**
 * Writing an exported file atomically: the bytes go to a temporary file beside the target, which
 * is renamed over it only once complete, so a failed or interrupted export never leaves a
 * partial `.onnx` (and never clobbers a good one).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { writeAtomic } from '../io/atomic_write.ts';
import { dirname } from 'node:path';

/** Raised when the output path cannot be written; the message names the path and why. */
export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

/**
 * Check, before any work, that `path` can be written: its folder exists and is writable, and the
 * path itself is not a folder.
 * @throws OutputPathError otherwise.
 */
export function checkWritable(path: string): void {
  const dir = dirname(path);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new OutputPathError(`cannot write ${path}: folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new OutputPathError(`cannot write ${path}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new OutputPathError(`cannot write ${path}: folder ${dir} is not writable`);
  }
  try {
    if (statSync(path).isDirectory())
      throw new OutputPathError(`cannot write ${path}: it is a folder`);
  } catch (e) {
    if (e instanceof OutputPathError) throw e;
  }
}

/**
 * Write `bytes` to `path` through a temporary file in the same folder and a rename.
 * @throws OutputPathError when writing or renaming fails (the temporary file is removed).
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  try {
    writeAtomic(path, bytes);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new OutputPathError(`cannot write ${path}: ${err.code ?? err.message}`);
  }
}
