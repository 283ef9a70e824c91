/**
 * mmcv ConvModule: conv (bias only when no norm follows) → norm → activation. The norm child is
 * named after its type as mmcv does (`bn`, `gn`), so keys read `….conv.weight`, `….gn.weight`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { Conv2d, type Conv2dOptions } from './conv.ts';
import { BatchNorm2d, GroupNorm } from './norm.ts';
import { convBn } from './conv_bn.ts';

export type NormSpec = { type: 'GN'; groups: number } | { type: 'BN' } | { type: 'none' };
export type Activation = 'relu' | 'none';

export interface ConvModuleOptions extends Omit<Conv2dOptions, 'bias'> {
  norm?: NormSpec;
  act?: Activation;
}

export class ConvModule extends Module {
  readonly conv: Conv2d;
  readonly norm?: BatchNorm2d | GroupNorm;
  readonly act: Activation;
  constructor(inChannels: number, outChannels: number, opts: ConvModuleOptions = {}) {
    super();
    const norm = opts.norm ?? { type: 'none' };
    this.conv = this.child(
      'conv',
      new Conv2d(inChannels, outChannels, { ...opts, bias: norm.type === 'none' }),
    );
    if (norm.type === 'GN') this.norm = this.child('gn', new GroupNorm(norm.groups, outChannels));
    else if (norm.type === 'BN') this.norm = this.child('bn', new BatchNorm2d(outChannels));
    this.act = opts.act ?? 'relu';
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let y: tf.Tensor4D;
      if (this.norm instanceof BatchNorm2d) y = convBn(this.conv, this.norm, x);
      else y = this.norm ? this.norm.forward(this.conv.forward(x)) : this.conv.forward(x);
      return this.act === 'relu' ? tf.relu(y) : y;
    });
  }
}
