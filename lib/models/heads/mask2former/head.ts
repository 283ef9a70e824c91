/**
 * Mask2Former head for semantic segmentation (Cheng et al., CVPR 2022), mmseg's
 * `Mask2FormerHead` over mmdet's (`mmdet/models/dense_heads/mask2former_head.py`), optionally
 * with Offset Learning (OffSeg §4, `offset_learning`).
 *
 * Children: `pixel_decoder` (pixel_decoder.ts), `transformer_decoder` (9 layers),
 * `query_embed` / `query_feat` (Q × C embeddings), `level_embed` (3 × C), `cls_embed`
 * Linear(C → K + 1, the last class is "no object"), `mask_embed` MLP (`0`, `2`, `4`: three
 * Linear(C, C) with ReLU between). The decoder input projections are identities for 256-channel
 * maps and have no parameters.
 *
 * Forward: 10 predictions — one from the initial queries, one after each decoder layer. Layer i
 * cross-attends to encoder map i mod 3 (strides 32, 16, 8, plus `level_embed[i mod 3]`, keys
 * with sine positions), masked where the previous prediction, bilinearly resized to that map,
 * has sigmoid < 0.5 (a query whose mask would hide every pixel attends everywhere instead).
 * Each prediction (`predict`): post_norm → class logits and mask embeddings; with Offset
 * Learning, (embeddings, mask features) → (W', E') by the ONE shared module, always from the
 * ORIGINAL mask features; masks = embeddings · featuresᵀ at stride 4. NHWC: masks are
 * [B, H/4, W/4, Q].
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { normal } from '../../core/init.ts';
import { Linear } from '../../layers/linear.ts';
import { matMul } from '../../../ops/conv.ts';
import { resizeBilinear } from '../../../ops/resize.ts';
import { MSDeformAttnPixelDecoder } from './pixel_decoder.ts';
import { Mask2FormerTransformerDecoder } from './transformer_decoder.ts';
import { OffsetLearningMask } from './offset_learning_mask.ts';
import { sinePositionalEncoding } from './layers.ts';

export interface Mask2FormerHeadOptions {
  inChannels: readonly number[];
  numClasses: number;
  channels?: number;
  numQueries?: number;
  decoderLayers?: number;
  heads?: number;
  decoderFfn?: number;
  /** Pixel decoder encoder layers (6). */
  encoderLayers?: number;
  offsetLearning?: boolean;
}

export interface Mask2FormerPredictions {
  /** Per prediction: class logits [B, Q, K + 1]. */
  cls: tf.Tensor3D[];
  /** Per prediction: mask logits [B, H/4, W/4, Q]. */
  masks: tf.Tensor4D[];
}

/**
 * The cross-attention mask of a prediction: masks [B,h4,w4,Q] bilinearly resized to [h,w], true
 * where sigmoid < 0.5 (logit < 0), and a query's row that would be all true set all false.
 * Built from the values (torch's `.detach()`): no gradient flows through it.
 * Returns bool [B,1,Q,h·w].
 */
export function attentionMask(masks: tf.Tensor4D, size: [number, number], scope = ''): tf.Tensor4D {
  const [b, , , q] = masks.shape;
  const hw = size[0] * size[1];
  const r = resizeBilinear(masks, size, scope); // (B, h, w, Q)
  const v = r.dataSync();
  r.dispose();
  const out = new Uint8Array(b * q * hw);
  for (let bi = 0; bi < b; bi++)
    for (let qi = 0; qi < q; qi++) {
      let all = true;
      for (let p = 0; p < hw && all; p++) all = v[(bi * hw + p) * q + qi] < 0;
      if (all) continue;
      for (let p = 0; p < hw; p++)
        out[(bi * q + qi) * hw + p] = v[(bi * hw + p) * q + qi] < 0 ? 1 : 0;
    }
  return tf.tensor4d(out, [b, 1, q, hw], 'bool');
}

export class Mask2FormerHead extends Module {
  readonly pixelDecoder: MSDeformAttnPixelDecoder;
  readonly transformerDecoder: Mask2FormerTransformerDecoder;
  readonly queryEmbed: tf.Variable;
  readonly queryFeat: tf.Variable;
  readonly levelEmbed: tf.Variable;
  readonly clsEmbed: Linear;
  readonly maskEmbed: Linear[];
  readonly offsetLearning?: OffsetLearningMask;
  readonly numClasses: number;
  readonly numQueries: number;

  constructor(opts: Mask2FormerHeadOptions) {
    super();
    const c = opts.channels ?? 256;
    this.numClasses = opts.numClasses;
    this.numQueries = opts.numQueries ?? 100;
    this.pixelDecoder = this.child(
      'pixel_decoder',
      new MSDeformAttnPixelDecoder({
        inChannels: opts.inChannels,
        channels: c,
        encoderLayers: opts.encoderLayers,
      }),
    );
    this.transformerDecoder = this.child(
      'transformer_decoder',
      new Mask2FormerTransformerDecoder(
        opts.decoderLayers ?? 9,
        c,
        opts.heads ?? 8,
        opts.decoderFfn ?? 2048,
      ),
    );
    this.queryEmbed = this.param('query_embed.weight', normal([this.numQueries, c], 1));
    this.queryFeat = this.param('query_feat.weight', normal([this.numQueries, c], 1));
    this.levelEmbed = this.param('level_embed.weight', normal([this.pixelDecoder.levels, c], 1));
    this.clsEmbed = this.child('cls_embed', new Linear(c, opts.numClasses + 1));
    this.maskEmbed = [0, 2, 4].map((i) => this.child(`mask_embed.${i}`, new Linear(c, c)));
    if (opts.offsetLearning)
      this.offsetLearning = this.child('offset_learning', new OffsetLearningMask(c));
  }

  /** One prediction from decoder queries [B,Q,C] and the mask features [B,H/4,W/4,C]. */
  predict(query: tf.Tensor3D, maskFeatures: tf.Tensor4D): { cls: tf.Tensor3D; masks: tf.Tensor4D } {
    return tf.tidy(() => {
      const out = this.transformerDecoder.postNorm.forward(query);
      const cls = this.clsEmbed.forward(out);
      let embed = out;
      this.maskEmbed.forEach((l, i) => {
        embed = l.forward(embed);
        if (i < 2) embed = tf.relu(embed);
      });
      let feats = maskFeatures;
      if (this.offsetLearning)
        ({ embed, feats } = this.offsetLearning.forward(embed, maskFeatures));
      const [b, h, w, c] = feats.shape;
      const m = matMul(tf.reshape(feats, [b, h * w, c]), embed, false, true, this.path); // (B, N, Q)
      return { cls, masks: tf.reshape(m, [b, h, w, this.numQueries]) as tf.Tensor4D };
    });
  }

  /** feats: backbone maps, strides 4 … 32 → the 10 predictions. */
  forward(feats: tf.Tensor4D[]): Mask2FormerPredictions {
    return tf.tidy(() => {
      const { maskFeatures, multiScale } = this.pixelDecoder.forward(feats);
      const b = feats[0].shape[0];
      const c = maskFeatures.shape[3];
      const memory: tf.Tensor3D[] = [];
      const memoryPos: tf.Tensor3D[] = [];
      const sizes: [number, number][] = [];
      multiScale.forEach((m, i) => {
        const [, h, w] = m.shape;
        const lvl = tf.reshape(tf.slice(this.levelEmbed, [i, 0], [1, c]), [1, 1, c]);
        memory.push(tf.add(tf.reshape(m, [b, h * w, c]), lvl) as tf.Tensor3D);
        memoryPos.push(sinePositionalEncoding(h, w, c / 2));
        sizes.push([h, w]);
      });
      const qPos = tf.reshape(this.queryEmbed, [1, this.numQueries, c]);
      let q = tf.broadcastTo(tf.reshape(this.queryFeat, [1, this.numQueries, c]), [
        b,
        this.numQueries,
        c,
      ]) as tf.Tensor3D;
      const cls: tf.Tensor3D[] = [];
      const masks: tf.Tensor4D[] = [];
      let p = this.predict(q, maskFeatures);
      cls.push(p.cls);
      masks.push(p.masks);
      let mask = attentionMask(p.masks, sizes[0], this.path);
      this.transformerDecoder.layers.forEach((layer, i) => {
        const lv = i % sizes.length;
        q = layer.forward(q, qPos, memory[lv], memoryPos[lv], mask);
        p = this.predict(q, maskFeatures);
        cls.push(p.cls);
        masks.push(p.masks);
        mask = attentionMask(p.masks, sizes[(i + 1) % sizes.length], this.path);
      });
      return { cls, masks };
    });
  }
}
