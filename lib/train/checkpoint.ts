/**
 * Training checkpoints: model weights, optimizer moments, iteration, RNG and data-loader state,
 * the resolved config — everything `--resume` needs to continue exactly.
 *
 * Format (one file): the bytes `OFFSEGCK`, a little-endian u32 header length, a JSON header
 * {meta, tensors: [{key, dtype, shape, offset, length}]}, then the raw tensor bytes. Written to a
 * temporary file and renamed, so a run killed mid-write never leaves a broken checkpoint; the
 * `last_checkpoint` pointer (as mmengine writes) is updated the same way, after the file exists.
 * Model weights use our parameter names and layouts; `exportPth` (lib/io) converts to PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { writeAtomic } from '../io/atomic_write.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAGIC = 'OFFSEGCK';

export interface TensorRecord {
  key: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  offset: number;
  length: number;
}

export interface CheckpointContents<M> {
  meta: M;
  tensors: Map<string, tf.Tensor>;
}

export async function saveCheckpoint<M>(
  path: string,
  meta: M,
  tensors: Map<string, tf.Tensor>,
): Promise<void> {
  const records: TensorRecord[] = [];
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [key, t] of tensors) {
    const data = await t.data();
    const bytes = new Uint8Array(
      data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    );
    const dtype = t.dtype === 'int32' || t.dtype === 'bool' ? 'int32' : 'float32';
    records.push({ key, dtype, shape: [...t.shape], offset, length: bytes.byteLength });
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta, tensors: records }));
  const head = new Uint8Array(12);
  head.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(head.buffer).setUint32(8, header.byteLength, true);
  writeAtomic(path, [head, header, ...blobs]);
}

export function loadCheckpoint<M>(path: string): CheckpointContents<M> {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const buf = readFileSync(path);
  if (buf.subarray(0, 8).toString('latin1') !== MAGIC) {
    throw new Error(
      `${path} is not an offseg-ts training checkpoint (for PyTorch .pth files use lib/io/checkpoint)`,
    );
  }
  const hlen = buf.readUInt32LE(8);
  const { meta, tensors } = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8')) as {
    meta: M;
    tensors: TensorRecord[];
  };
  const base = 12 + hlen;
  const out = new Map<string, tf.Tensor>();
  for (const r of tensors) {
    const raw = buf.buffer.slice(
      buf.byteOffset + base + r.offset,
      buf.byteOffset + base + r.offset + r.length,
    );
    const data = r.dtype === 'int32' ? new Int32Array(raw) : new Float32Array(raw);
    out.set(r.key, tf.tensor(data, r.shape, r.dtype));
  }
  return { meta, tensors: out };
}

/** mmengine-style pointer to the newest checkpoint of a work dir. */
export function writeLastCheckpoint(workDir: string, file: string): void {
  writeAtomic(join(workDir, 'last_checkpoint'), [new TextEncoder().encode(file + '\n')]);
}

export function readLastCheckpoint(workDir: string): string | undefined {
  const p = join(workDir, 'last_checkpoint');
  if (!existsSync(p)) return undefined;
  const f = readFileSync(p, 'utf8').trim();
  return f ? (f.startsWith('/') ? f : join(workDir, f)) : undefined;
}
