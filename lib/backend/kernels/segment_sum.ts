/**
 * `UnsortedSegmentSum` for WASM (the gradient of gather/gatherND-style lookups).
 *
 * out[s, ...] = Σ_{j: ids[j] = s} x[j, ...], ids outside [0, numSegments) ignored — as the
 * CPU kernel. Built on the WASM `ScatterNd`, which adds duplicate indices; invalid ids go to
 * an extra row that is cut off afterwards.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { attr, composite } from './common.ts';

const kernelFunc: KernelFunc = ({ inputs, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const segments = attr<number>(attrs, 'numSegments');
  return composite([x, segmentIds], (tx, ids) => {
    const n = ids.size;
    const rest = tx.shape.slice(ids.rank);
    const flat = tf.reshape(tf.cast(ids, 'int32'), [n]); // (n)
    const valid = tf.logicalAnd(tf.greaterEqual(flat, 0), tf.less(flat, segments));
    const target = tf.where(valid, flat, tf.fill([n], segments, 'int32')); // bad ids → extra row
    const updates = tf.reshape(tx, [n, ...rest]); // (n, ...rest)
    const full = tf.scatterND(tf.reshape(target, [n, 1]), updates, [segments + 1, ...rest]);
    return tf.slice(full, 0, segments); // (numSegments, ...rest)
  });
};

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc,
};
