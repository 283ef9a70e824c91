/** nn.Linear: weight stored (in, out) — PyTorch's (out, in) transposed — applied to the last axis. */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { uniform } from '../core/init.ts';
import { matMul } from '../../ops/conv.ts';

export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', uniform([inFeatures, outFeatures], -bound, bound), 'linear');
    if (bias) this.bias = this.param('bias', uniform([outFeatures], -bound, bound));
  }
  /** x [..., in] → [..., out]. Recorded as `linear` (fvcore's addmm/linear). */
  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const flat = tf.reshape(x, [-1, this.inFeatures]); // (prod(lead), in)
      let y = matMul(flat, this.weight, false, false, this.path, 'linear'); // (prod(lead), out)
      if (this.bias) y = tf.add(y, this.bias);
      return tf.reshape(y, [...lead, this.outFeatures]);
    }) as T;
  }
}
