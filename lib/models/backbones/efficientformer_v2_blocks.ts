/**
 * EfficientFormerV2 building blocks without attention (`FFN`, `Mlp`, `Embedding` in efficientformer_v2.py): conv+BN
 * sequences with the official nn.Sequential indices, the stem, the Mlp, the FFN block, the plain
 * down-sampling embedding, layer scale and stochastic depth. NHWC throughout.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { type Rng, reinit, truncNormal } from '../core/init.ts';
import { Conv2d, type Conv2dOptions } from '../layers/conv.ts';
import { BatchNorm2d } from '../layers/norm.ts';
import { convBn } from '../layers/conv_bn.ts';
import { gelu } from '../../ops/activation.ts';

/** Numbered container (torch nn.Sequential / nn.ModuleList): children are named '0', '1', …. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
}

export interface ConvNormOptions extends Conv2dOptions {
  /** GELU before the conv (the `proj` sequences: act, conv, BN → children '1', '2'). */
  preGelu?: boolean;
  /** BatchNorm after the conv (default true; LGQuery's `local` has none). */
  norm?: boolean;
}

/** nn.Sequential([GELU,] Conv2d[, BatchNorm2d]) with the official child indices. */
export class ConvNorm extends Module {
  readonly conv: Conv2d;
  readonly bn?: BatchNorm2d;
  readonly preGelu: boolean;
  constructor(inChannels: number, outChannels: number, opts: ConvNormOptions = {}) {
    super();
    this.preGelu = opts.preGelu ?? false;
    const i = this.preGelu ? 1 : 0;
    this.conv = this.child(String(i), new Conv2d(inChannels, outChannels, opts));
    if (opts.norm ?? true) this.bn = this.child(String(i + 1), new BatchNorm2d(outChannels));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const xin = this.preGelu ? gelu(x) : x;
      return this.bn ? convBn(this.conv, this.bn, xin) : this.conv.forward(xin);
    });
  }
}

/** Stem `patch_embed`: conv3×3 s2 (3 → C/2), BN, GELU, conv3×3 s2 (C/2 → C), BN, GELU. */
export class Stem extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  constructor(inChannels: number, outChannels: number) {
    super();
    const mid = Math.floor(outChannels / 2);
    this.conv1 = this.child('0', new Conv2d(inChannels, mid, { kernel: 3, stride: 2, padding: 1 }));
    this.bn1 = this.child('1', new BatchNorm2d(mid));
    this.conv2 = this.child(
      '3',
      new Conv2d(mid, outChannels, { kernel: 3, stride: 2, padding: 1 }),
    );
    this.bn2 = this.child('4', new BatchNorm2d(outChannels));
  }
  /** x [B,H,W,3] → [B,H/4,W/4,C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = gelu(convBn(this.conv1, this.bn1, x)); // (B, H/2, W/2, C/2)
      return gelu(convBn(this.conv2, this.bn2, y)); // (B, H/4, W/4, C)
    });
  }
}

/**
 * Mlp with mid conv: fc1 1×1 → norm1 → GELU → mid dw3×3 → mid_norm → GELU → fc2 1×1 →
 * norm2. fc1/fc2 use trunc-normal(0.02) weights and zero biases (the official `_init_weights`
 * runs before `mid` exists, so `mid` keeps torch's default init).
 */
export class Mlp extends Module {
  readonly fc1: Conv2d;
  readonly norm1: BatchNorm2d;
  readonly mid: Conv2d;
  readonly midNorm: BatchNorm2d;
  readonly fc2: Conv2d;
  readonly norm2: BatchNorm2d;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.child('fc1', new Conv2d(dim, hidden));
    this.fc2 = this.child('fc2', new Conv2d(hidden, dim));
    for (const c of [this.fc1, this.fc2]) {
      reinit(c.weight, truncNormal([...c.weight.shape], 0.02));
      if (c.bias) reinit(c.bias, tf.zeros(c.bias.shape));
    }
    this.mid = this.child('mid', new Conv2d(hidden, hidden, { kernel: 3, groups: hidden }));
    this.midNorm = this.child('mid_norm', new BatchNorm2d(hidden));
    this.norm1 = this.child('norm1', new BatchNorm2d(hidden));
    this.norm2 = this.child('norm2', new BatchNorm2d(dim));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let y = gelu(convBn(this.fc1, this.norm1, x)); // (B, H, W, hidden)
      y = gelu(convBn(this.mid, this.midNorm, y)); // (B, H, W, hidden)
      return convBn(this.fc2, this.norm2, y); // (B, H, W, C)
    });
  }
}

import { dropPath } from '../layers/drop_path.ts';
export { dropPath };

/** Per-channel layer scale γ, stored in torch's (C, 1, 1) shape, applied over NHWC channels. */
export function scaled(gamma: tf.Variable, y: tf.Tensor4D): tf.Tensor4D {
  return tf.mul(y, tf.reshape(gamma, [-1])); // γ (C,1,1) → (C), broadcast over [B,H,W,C]
}

export interface BlockOptions {
  dim: number;
  mlpRatio: number;
  dropPath: number;
  layerScaleInit: number;
  rng: Rng;
}

/** FFN block: x + DropPath(γ₂ ⊙ Mlp(x)). */
export class FFN extends Module {
  readonly layerScale2: tf.Variable;
  readonly mlp: Mlp;
  constructor(readonly opts: BlockOptions) {
    super();
    const { dim } = opts;
    this.layerScale2 = this.param('layer_scale_2', tf.fill([dim, 1, 1], opts.layerScaleInit));
    this.mlp = this.child('mlp', new Mlp(dim, Math.floor(dim * opts.mlpRatio)));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { dropPath: p, rng } = this.opts;
      return tf.add(
        x,
        dropPath(scaled(this.layerScale2, this.mlp.forward(x)), p, this.training, rng),
      );
    });
  }
}

/** Plain down-sampling embedding (network 1 and 3): conv3×3 s2 (`proj`) → BN (`norm`). */
export class Embedding extends Module {
  readonly proj: Conv2d;
  readonly norm: BatchNorm2d;
  constructor(inChannels: number, outChannels: number) {
    super();
    this.proj = this.child(
      'proj',
      new Conv2d(inChannels, outChannels, { kernel: 3, stride: 2, padding: 1 }),
    );
    this.norm = this.child('norm', new BatchNorm2d(outChannels));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => convBn(this.proj, this.norm, x));
  }
}
