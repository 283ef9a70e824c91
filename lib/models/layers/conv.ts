/** Conv2d with PyTorch parameter names (`weight`, `bias`) and init; NHWC forward. */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { uniform } from '../core/init.ts';
import { conv2d, depthwiseConv2d } from '../../ops/conv.ts';

export interface Conv2dOptions {
  kernel?: number | [number, number];
  stride?: number;
  /** Symmetric padding; default k//2 ("same" for odd kernels at stride 1). */
  padding?: number | [number, number];
  dilation?: number;
  /** 1 (dense) or equal to in = out channels (depthwise). */
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly depthwise: boolean;
  readonly kernel: [number, number];
  readonly stride: number;
  readonly padding: [number, number];
  readonly dilation: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: Conv2dOptions = {},
  ) {
    super();
    const k = opts.kernel ?? 1;
    this.kernel = typeof k === 'number' ? [k, k] : k;
    this.stride = opts.stride ?? 1;
    this.dilation = opts.dilation ?? 1;
    const p = opts.padding ?? [
      Math.floor(this.kernel[0] / 2) * this.dilation,
      Math.floor(this.kernel[1] / 2) * this.dilation,
    ];
    this.padding = typeof p === 'number' ? [p, p] : p;
    const groups = opts.groups ?? 1;
    if (groups !== 1 && !(groups === inChannels && groups === outChannels)) {
      throw new Error(
        `Conv2d: only dense or depthwise convs are supported (groups=${groups}, in=${inChannels}, out=${outChannels})`,
      );
    }
    this.depthwise = groups !== 1;
    const [kh, kw] = this.kernel;
    const fanIn = (inChannels / groups) * kh * kw;
    const bound = 1 / Math.sqrt(fanIn); // torch default: kaiming_uniform(a=√5) == U(±1/√fan_in)
    this.weight = this.depthwise
      ? this.param('weight', uniform([kh, kw, inChannels, 1], -bound, bound), 'dwconv')
      : this.param('weight', uniform([kh, kw, inChannels, outChannels], -bound, bound), 'conv');
    if (opts.bias ?? true) this.bias = this.param('bias', uniform([outChannels], -bound, bound));
  }

  /** x [B,H,W,Cin] → [B,H',W',Cout]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.forwardWith(x, this.weight as tf.Tensor4D, this.bias as tf.Tensor1D | undefined);
  }

  /** This conv's geometry and trace scope with other weights (e.g. a folded BatchNorm). */
  forwardWith(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | undefined): tf.Tensor4D {
    const args = { stride: this.stride, padding: this.padding, dilation: this.dilation };
    return this.depthwise
      ? depthwiseConv2d(x, w, b, args, this.path)
      : conv2d(x, w, b, args, this.path);
  }
}
