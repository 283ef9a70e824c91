/**
 * Building blocks of the Mask2Former head shared by its pixel decoder and transformer decoder,
 * with the parameter names of mmcv (`mmcv/cnn/bricks/transformer.py`) and mmdet
 * (`mmdet/models/layers/positional_encoding.py`):
 * - `Ffn`: mmcv FFN with two fcs, `layers.0.0` Linear(C → hidden) → activation →
 *   `layers.1` Linear(hidden → C), plus the identity;
 * - `Mha`: mmcv MultiheadAttention (batch first) around torch nn.MultiheadAttention (`attn.`
 *   `in_proj_weight`, `in_proj_bias`, `out_proj`): positions added to queries and keys, not to
 *   values; the identity (query without position) added to the output; optional boolean mask;
 * - `ConvGn`: mmcv ConvModule whose conv keeps its bias although a GroupNorm follows (the pixel
 *   decoder's `input_convs` are built with bias=True);
 * - `sinePositionalEncoding`: mmdet SinePositionalEncoding(num_feats, normalize=True) for an
 *   unpadded map.
 * Token layout [B, N, C]; maps NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { normal, reinit, xavierUniform } from '../../core/init.ts';
import { Conv2d } from '../../layers/conv.ts';
import { GroupNorm } from '../../layers/norm.ts';
import { Linear } from '../../layers/linear.ts';
import { matMul } from '../../../ops/conv.ts';

/** Xavier-uniform (gain 1) on a Linear's weight; bias to 0 when `zeroBias`. */
export function xavierLinear(l: Linear, zeroBias = true): void {
  reinit(l.weight, xavierUniform(l.weight.shape, l.inFeatures, l.outFeatures));
  if (l.bias && zeroBias) reinit(l.bias, tf.zeros(l.bias.shape));
}

/** torch nn.init.xavier_normal_ on a Linear's weight (bias untouched). */
export function xavierNormalLinear(l: Linear): void {
  reinit(l.weight, normal(l.weight.shape, Math.sqrt(2 / (l.inFeatures + l.outFeatures))));
}

/** mmcv FFN (num_fcs 2, add_identity): x + fc2(act(fc1(x))). */
export class Ffn extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.child('layers.0.0', new Linear(dim, hidden));
    this.fc2 = this.child('layers.1', new Linear(hidden, dim));
  }
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => tf.add(x, this.fc2.forward(tf.relu(this.fc1.forward(x)))));
  }
}

/** mmcv MultiheadAttention, batch first: `attn.{in_proj_weight,in_proj_bias,out_proj}`. */
export class Mha extends Module {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias: tf.Variable;
  readonly outProj: Linear;
  constructor(
    readonly dim: number,
    readonly numHeads: number,
  ) {
    super();
    const attn = new MhaParams(dim);
    this.child('attn', attn);
    this.inProjWeight = attn.inProjWeight;
    this.inProjBias = attn.inProjBias;
    this.outProj = attn.outProj;
  }

  /**
   * query [B,Q,C], key/value [B,M,C], positions [B|1,Q,C] / [B|1,M,C] (added to query and key);
   * mask [B,1|heads,Q,M] boolean, true = not attended (torch's bool attn_mask). → [B,Q,C].
   */
  forward(
    query: tf.Tensor3D,
    key: tf.Tensor3D,
    value: tf.Tensor3D,
    queryPos?: tf.Tensor,
    keyPos?: tf.Tensor,
    mask?: tf.Tensor,
  ): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, nq, c] = query.shape;
      const m = key.shape[1];
      const h = this.numHeads;
      const d = c / h;
      const q = queryPos ? tf.add(query, queryPos) : query;
      const k = keyPos ? tf.add(key, keyPos) : key;
      const w = this.inProjWeight; // (C, 3C): columns q | k | v
      const proj = (x: tf.Tensor, i: number, n: number) =>
        tf.transpose(
          tf.reshape(
            tf.add(
              matMul(
                tf.reshape(x, [b * n, c]),
                tf.slice(w, [0, i * c], [c, c]),
                false,
                false,
                this.path,
                'linear',
              ),
              tf.slice(this.inProjBias, [i * c], [c]),
            ),
            [b, n, h, d],
          ),
          [0, 2, 1, 3],
        ); // (B, h, n, d), channel = head·d + j
      const qh = tf.mul(proj(q, 0, nq), 1 / Math.sqrt(d));
      const kh = proj(k, 1, m);
      const vh = proj(value, 2, m);
      let logits = matMul(qh, kh, false, true, this.path); // (B, h, Q, M)
      if (mask) logits = tf.where(mask, tf.fill(logits.shape, -1e30), logits);
      const o = matMul(tf.softmax(logits), vh, false, false, this.path); // (B, h, Q, d)
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b, nq, c]);
      return tf.add(query, this.outProj.forward(merged)) as tf.Tensor3D;
    });
  }
}

/** torch nn.MultiheadAttention's parameters; weight stored (C, 3C), torch (3C, C). */
class MhaParams extends Module {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias: tf.Variable;
  readonly outProj: Linear;
  constructor(dim: number) {
    super();
    this.inProjWeight = this.param(
      'in_proj_weight',
      xavierUniform([dim, 3 * dim], dim, 3 * dim),
      'linear',
    );
    this.inProjBias = this.param('in_proj_bias', tf.zeros([3 * dim]));
    this.outProj = this.child('out_proj', new Linear(dim, dim));
    reinit(this.outProj.bias!, tf.zeros([dim]));
  }
}

/** ConvModule(conv with bias → GroupNorm(32) → optional ReLU): keys `conv.*`, `gn.*`. */
export class ConvGn extends Module {
  readonly conv: Conv2d;
  readonly gn: GroupNorm;
  constructor(
    inC: number,
    outC: number,
    kernel: number,
    bias: boolean,
    readonly relu: boolean,
  ) {
    super();
    this.conv = this.child('conv', new Conv2d(inC, outC, { kernel, bias }));
    this.gn = this.child('gn', new GroupNorm(32, outC));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.gn.forward(this.conv.forward(x));
      return this.relu ? tf.relu(y) : y;
    });
  }
}

/**
 * mmdet SinePositionalEncoding(numFeats, temperature 10000, normalize=True, scale 2π, eps 1e-6,
 * offset 0) of an unpadded h×w map: channels [0, numFeats) encode y, [numFeats, 2·numFeats)
 * encode x; channel 2i is sin(e / T^(2i/numFeats)), 2i+1 is cos of the same argument, with
 * e = (row or column index + 1) / (count + 1e-6) · 2π. Returns [1, h·w, 2·numFeats] (row-major).
 */
export function sinePositionalEncoding(h: number, w: number, numFeats = 128): tf.Tensor3D {
  const out = new Float32Array(h * w * 2 * numFeats);
  const scale = 2 * Math.PI;
  const dimT = Array.from(
    { length: numFeats },
    (_, i) => 10000 ** ((2 * Math.floor(i / 2)) / numFeats),
  );
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const ey = ((y + 1) / (h + 1e-6)) * scale;
      const ex = ((x + 1) / (w + 1e-6)) * scale;
      const base = (y * w + x) * 2 * numFeats;
      for (let i = 0; i < numFeats; i++) {
        const f = i % 2 === 0 ? Math.sin : Math.cos;
        out[base + i] = f(ey / dimT[i]);
        out[base + numFeats + i] = f(ex / dimT[i]);
      }
    }
  }
  return tf.tensor3d(out, [1, h * w, 2 * numFeats]);
}
