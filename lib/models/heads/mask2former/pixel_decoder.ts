/**
 * Mask2Former's pixel decoder, mmdet `MSDeformAttnPixelDecoder`
 * (`mmdet/models/layers/msdeformattn_pixel_decoder.py`) with mmcv's
 * `MultiScaleDeformableAttention` (`mmcv/ops/multi_scale_deform_attn.py`), as the Swin-T
 * Mask2Former config sets it: 3 encoder levels (strides 32, 16, 8), 6 encoder layers, 256
 * channels, 8 heads, 4 points, FFN 1024 (ReLU), GroupNorm(32).
 *
 * 1. `input_convs.i` (1×1 conv with bias + GN) project levels 3, 2, 1 (low to high resolution);
 *    every token gets the sine position of its map plus `level_encoding.weight[i]`, and a
 *    reference point at its pixel centre ((x + 0.5)/w, (y + 0.5)/h), the same on every level.
 * 2. `encoder.layers.j` (post-norm): x = norms.0(x + MSDA(x)); x = norms.1(FFN(x)). MSDA:
 *    q = x + pos; value = value_proj(x) in 8 heads; locations = reference +
 *    sampling_offsets(q) / (w_l, h_l); weights = softmax over the 3·4 (level, point) pairs of
 *    attention_weights(q); out = output_proj(msDeformAttn(…)) (lib/ops/ms_deform_attn.ts).
 * 3. FPN on the stride-4 level: `lateral_convs.0`(f0) + bilinear upsample of the stride-8
 *    output → `output_convs.0` (3×3 conv, GN, ReLU); `mask_feature` 1×1 conv of that map.
 * Returns the mask features (stride 4) and the three encoder maps, low to high resolution.
 * Init follows `init_weights` of both files. NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { normal, reinit, uniform, xavierUniform } from '../../core/init.ts';
import { Conv2d } from '../../layers/conv.ts';
import { Linear } from '../../layers/linear.ts';
import { LayerNorm } from '../../layers/norm.ts';
import { msDeformAttn } from '../../../ops/ms_deform_attn.ts';
import { resizeBilinear } from '../../../ops/resize.ts';
import { ConvGn, Ffn, sinePositionalEncoding, xavierLinear, xavierNormalLinear } from './layers.ts';

export interface MsdaOptions {
  dim: number;
  heads: number;
  levels: number;
  points: number;
}

/** mmcv MultiScaleDeformableAttention (batch first, 2-D reference points, no padding mask). */
export class MultiScaleDeformableAttention extends Module {
  readonly samplingOffsets: Linear;
  readonly attentionWeights: Linear;
  readonly valueProj: Linear;
  readonly outputProj: Linear;
  constructor(readonly o: MsdaOptions) {
    super();
    const { dim, heads, levels, points } = o;
    this.samplingOffsets = this.child(
      'sampling_offsets',
      new Linear(dim, heads * levels * points * 2),
    );
    this.attentionWeights = this.child(
      'attention_weights',
      new Linear(dim, heads * levels * points),
    );
    this.valueProj = this.child('value_proj', new Linear(dim, dim));
    this.outputProj = this.child('output_proj', new Linear(dim, dim));
    // init_weights: offsets 0 with a bias pointing each head in its own direction, scaled by the
    // point index; attention weights 0; value/output projections xavier-uniform, bias 0.
    reinit(this.samplingOffsets.weight, tf.zeros(this.samplingOffsets.weight.shape));
    const bias = new Float32Array(heads * levels * points * 2);
    for (let h = 0; h < heads; h++) {
      const t = (h * 2 * Math.PI) / heads;
      const [cx, cy] = [Math.cos(t), Math.sin(t)];
      const m = Math.max(Math.abs(cx), Math.abs(cy));
      for (let l = 0; l < levels; l++)
        for (let p = 0; p < points; p++) {
          const i = ((h * levels + l) * points + p) * 2;
          bias[i] = (cx / m) * (p + 1);
          bias[i + 1] = (cy / m) * (p + 1);
        }
    }
    reinit(this.samplingOffsets.bias!, tf.tensor1d(bias));
    reinit(this.attentionWeights.weight, tf.zeros(this.attentionWeights.weight.shape));
    reinit(this.attentionWeights.bias!, tf.zeros(this.attentionWeights.bias!.shape));
    xavierLinear(this.valueProj);
    xavierLinear(this.outputProj);
  }

  /**
   * x [B,S,C] tokens of all levels, pos [B|1,S,C], ref [1,S,2] (x, y) in [0,1],
   * shapes [[h_l, w_l], …] → x + output [B,S,C].
   */
  forward(
    x: tf.Tensor3D,
    pos: tf.Tensor3D,
    ref: tf.Tensor3D,
    shapes: readonly (readonly [number, number])[],
  ): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, s, c] = x.shape;
      const { heads, levels, points } = this.o;
      const q = tf.add(x, pos) as tf.Tensor3D;
      const value = tf.reshape(this.valueProj.forward(x), [b, s, heads, c / heads]) as tf.Tensor4D;
      const offsets = tf.reshape(this.samplingOffsets.forward(q), [b, s, heads, levels, points, 2]);
      const logits = tf.reshape(this.attentionWeights.forward(q), [b, s, heads, levels * points]);
      const weights = tf.reshape(tf.softmax(logits), [b, s, heads, levels, points]);
      const norm = tf.tensor(
        shapes.flatMap(([h, w]) => [1 / w, 1 / h]),
        [1, 1, 1, levels, 1, 2],
      );
      const locations = tf.add(tf.reshape(ref, [1, s, 1, 1, 1, 2]), tf.mul(offsets, norm));
      const out = msDeformAttn(value, shapes, locations, weights, this.path);
      return tf.add(x, this.outputProj.forward(out)) as tf.Tensor3D;
    });
  }
}

/** mmdet DeformableDetrTransformerEncoderLayer: post-norm MSDA and FFN. */
class EncoderLayer extends Module {
  readonly selfAttn: MultiScaleDeformableAttention;
  readonly ffn: Ffn;
  readonly norm0: LayerNorm;
  readonly norm1: LayerNorm;
  constructor(o: MsdaOptions, ffnHidden: number) {
    super();
    this.selfAttn = this.child('self_attn', new MultiScaleDeformableAttention(o));
    this.ffn = this.child('ffn', new Ffn(o.dim, ffnHidden));
    this.norm0 = this.child('norms.0', new LayerNorm(o.dim));
    this.norm1 = this.child('norms.1', new LayerNorm(o.dim));
  }
  forward(
    x: tf.Tensor3D,
    pos: tf.Tensor3D,
    ref: tf.Tensor3D,
    shapes: readonly (readonly [number, number])[],
  ): tf.Tensor3D {
    return tf.tidy(() => {
      const y = this.norm0.forward(this.selfAttn.forward(x, pos, ref, shapes));
      return this.norm1.forward(this.ffn.forward(y));
    });
  }
}

/** caffe2_xavier_init: kaiming-uniform with a = 1 over fan_in (bound √(3/fan_in)), bias 0. */
function caffe2Xavier(conv: Conv2d): void {
  const [kh, kw] = conv.kernel;
  const bound = Math.sqrt(3 / (conv.inChannels * kh * kw));
  reinit(conv.weight, uniform(conv.weight.shape, -bound, bound));
  if (conv.bias) reinit(conv.bias, tf.zeros(conv.bias.shape));
}

export interface PixelDecoderOptions {
  /** Backbone widths, stride 4 … 32. */
  inChannels: readonly number[];
  /** 256. */
  channels?: number;
  encoderLayers?: number;
  encoderLevels?: number;
  heads?: number;
  points?: number;
  ffnHidden?: number;
}

export interface PixelDecoderOutput {
  /** [B, H/4, W/4, C]. */
  maskFeatures: tf.Tensor4D;
  /** The encoder maps, low to high resolution (strides 32, 16, 8). */
  multiScale: tf.Tensor4D[];
}

export class MSDeformAttnPixelDecoder extends Module {
  readonly inputConvs: ConvGn[] = [];
  readonly layers: EncoderLayer[] = [];
  readonly levelEncoding: tf.Variable;
  readonly lateralConvs: ConvGn[] = [];
  readonly outputConvs: ConvGn[] = [];
  readonly maskFeature: Conv2d;
  readonly levels: number;

  constructor(opts: PixelDecoderOptions) {
    super();
    const c = opts.channels ?? 256;
    const nIn = opts.inChannels.length;
    this.levels = opts.encoderLevels ?? 3;
    const o = { dim: c, heads: opts.heads ?? 8, levels: this.levels, points: opts.points ?? 4 };
    for (let i = 0; i < this.levels; i++) {
      const conv = this.child(
        `input_convs.${i}`,
        new ConvGn(opts.inChannels[nIn - 1 - i], c, 1, true, false),
      );
      const [kh, kw] = conv.conv.kernel;
      const fanIn = conv.conv.inChannels * kh * kw;
      reinit(conv.conv.weight, xavierUniform(conv.conv.weight.shape, fanIn, c * kh * kw));
      reinit(conv.conv.bias!, tf.zeros([c]));
      this.inputConvs.push(conv);
    }
    for (let j = 0; j < (opts.encoderLayers ?? 6); j++) {
      const layer = this.child(`encoder.layers.${j}`, new EncoderLayer(o, opts.ffnHidden ?? 1024));
      // pixel decoder init: xavier-normal on every encoder matrix, then MSDA's own init
      for (const l of [layer.ffn.fc1, layer.ffn.fc2]) xavierNormalLinear(l);
      this.layers.push(layer);
    }
    this.levelEncoding = this.param('level_encoding.weight', normal([this.levels, c], 1));
    for (let k = 0; k < nIn - this.levels; k++) {
      const i = nIn - this.levels - 1 - k; // the remaining levels, low to high resolution
      const lat = this.child(
        `lateral_convs.${k}`,
        new ConvGn(opts.inChannels[i], c, 1, false, false),
      );
      const out = this.child(`output_convs.${k}`, new ConvGn(c, c, 3, false, true));
      caffe2Xavier(lat.conv);
      caffe2Xavier(out.conv);
      this.lateralConvs.push(lat);
      this.outputConvs.push(out);
    }
    this.maskFeature = this.child('mask_feature', new Conv2d(c, c, { kernel: 1 }));
    caffe2Xavier(this.maskFeature);
  }

  /** feats: backbone maps [B,H/4,W/4,C0] … [B,H/32,W/32,C3]. */
  forward(feats: tf.Tensor4D[]): PixelDecoderOutput {
    return tf.tidy(() => {
      const nIn = feats.length;
      const b = feats[0].shape[0];
      const tokens: tf.Tensor[] = [];
      const pos: tf.Tensor[] = [];
      const refs: number[] = [];
      const shapes: [number, number][] = [];
      for (let i = 0; i < this.levels; i++) {
        const f = this.inputConvs[i].forward(feats[nIn - 1 - i]);
        const [, h, w, c] = f.shape;
        tokens.push(tf.reshape(f, [b, h * w, c]));
        const lvl = tf.reshape(tf.slice(this.levelEncoding, [i, 0], [1, c]), [1, 1, c]);
        pos.push(tf.add(sinePositionalEncoding(h, w, c / 2), lvl));
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) refs.push((x + 0.5) / w, (y + 0.5) / h);
        shapes.push([h, w]);
      }
      let x = tf.concat(tokens, 1) as tf.Tensor3D; // (B, S, C)
      const p = tf.concat(pos, 1) as tf.Tensor3D; // (1, S, C)
      const ref = tf.tensor3d(refs, [1, refs.length / 2, 2]);
      for (const layer of this.layers) x = layer.forward(x, p, ref, shapes);
      const c = x.shape[2];
      const outs = tf
        .split(
          x,
          shapes.map(([h, w]) => h * w),
          1,
        )
        .map((t, i) => tf.reshape(t, [b, shapes[i][0], shapes[i][1], c]) as tf.Tensor4D);
      for (let k = 0; k < this.lateralConvs.length; k++) {
        const i = nIn - this.levels - 1 - k;
        const cur = this.lateralConvs[k].forward(feats[i]);
        const up = resizeBilinear(outs[outs.length - 1], [cur.shape[1], cur.shape[2]], this.path);
        outs.push(this.outputConvs[k].forward(tf.add(cur, up)));
      }
      return {
        maskFeatures: this.maskFeature.forward(outs[outs.length - 1]),
        multiScale: outs.slice(0, this.levels),
      };
    });
  }
}
