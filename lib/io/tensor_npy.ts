/** Conversions between .npy arrays (PyTorch NCHW) and our NHWC tensors. */
import * as tf from '@tensorflow/tfjs-core';
import { type NpyArray, readNpy } from './npy.ts';

export function npyToTensor(a: NpyArray): tf.Tensor {
  if (a.data instanceof BigInt64Array)
    return tf.tensor(
      Int32Array.from(a.data, (v) => Number(v)),
      a.shape,
      'int32',
    );
  if (a.data instanceof Float64Array)
    return tf.tensor(Float32Array.from(a.data), a.shape, 'float32');
  if (a.data instanceof Uint8Array) return tf.tensor(Int32Array.from(a.data), a.shape, 'int32');
  return tf.tensor(a.data, a.shape);
}

/** NCHW → NHWC for rank 4 (other ranks unchanged). */
export function nchwToNhwc(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, [0, 2, 3, 1]) : t;
}

export function nhwcToNchw(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t;
}

/** Read an NCHW float .npy as an NHWC tensor. */
export function readNpyNhwc(path: string): tf.Tensor4D {
  const t = npyToTensor(readNpy(path));
  if (t.rank !== 4)
    throw new Error(`${path}: expected a rank-4 NCHW array, got shape [${t.shape}]`);
  const out = nchwToNhwc(t) as tf.Tensor4D;
  t.dispose();
  return out;
}

export async function tensorToNpy(t: tf.Tensor): Promise<NpyArray> {
  return { dtype: '<f4', shape: [...t.shape], data: Float32Array.from(await t.data()) };
}
