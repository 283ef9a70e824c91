/**
 * The proxy protocol's optional frozen-backbone regime (protocol.json `freezeBackbone: true`):
 * a wrapper that exposes only the decode head to the training loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../models/core/module.ts';
import type { OffSeg } from '../../models/offseg.ts';
import type { Segmentor } from '../../models/segmentor.ts';

/**
 * The trainable part of a frozen-backbone model: the head is the only child (so the loop's
 * optimiser, checkpoints and train()/eval() see only `decode_head.*`), while the backbone runs
 * in eval mode (BatchNorm running statistics) outside the gradient's variable list.
 */
export class FrozenBackbone extends Module implements Segmentor {
  readonly numClasses: number;
  readonly outputStride: number;
  readonly sizeDivisor: number;

  constructor(readonly full: OffSeg) {
    super();
    this.numClasses = full.numClasses;
    this.outputStride = full.outputStride;
    this.sizeDivisor = full.sizeDivisor;
    this.child('decode_head', full.decodeHead);
    full.backbone.eval();
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.full.decodeHead.forward(this.full.backbone.forward(x)));
  }
}
