/**
 * Mask2Former's transformer decoder layers, mmdet `Mask2FormerTransformerDecoder` /
 * `Mask2FormerTransformerDecoderLayer` (`mmdet/models/layers/transformer/mask2former_layers.py`):
 * post-norm, cross-attention first —
 *   q = norms.0(cross_attn(q, memory, mask));  q = norms.1(self_attn(q));  q = norms.2(ffn(q))
 * with the query embedding added to queries and the level's sine positions to keys, 8 heads,
 * FFN 2048 (ReLU). `post_norm` is the LayerNorm the head applies before each prediction.
 * Init: xavier-uniform on every matrix (mmdet Mask2FormerHead.init_weights).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { LayerNorm } from '../../layers/norm.ts';
import { Ffn, Mha, xavierLinear } from './layers.ts';

export class DecoderLayer extends Module {
  readonly crossAttn: Mha;
  readonly selfAttn: Mha;
  readonly ffn: Ffn;
  readonly norms: LayerNorm[];
  constructor(dim: number, heads: number, ffnHidden: number) {
    super();
    this.selfAttn = this.child('self_attn', new Mha(dim, heads));
    this.crossAttn = this.child('cross_attn', new Mha(dim, heads));
    this.ffn = this.child('ffn', new Ffn(dim, ffnHidden));
    this.norms = [0, 1, 2].map((i) => this.child(`norms.${i}`, new LayerNorm(dim)));
    xavierLinear(this.ffn.fc1, false);
    xavierLinear(this.ffn.fc2, false);
    xavierLinear(this.selfAttn.outProj, false);
    xavierLinear(this.crossAttn.outProj, false);
  }

  /**
   * query [B,Q,C], queryPos [B|1,Q,C], memory [B,M,C], memoryPos [B|1,M,C],
   * mask [B,1,Q,M] boolean (true = not attended) → [B,Q,C].
   */
  forward(
    query: tf.Tensor3D,
    queryPos: tf.Tensor,
    memory: tf.Tensor3D,
    memoryPos: tf.Tensor,
    mask: tf.Tensor,
  ): tf.Tensor3D {
    return tf.tidy(() => {
      let q = this.crossAttn.forward(query, memory, memory, queryPos, memoryPos, mask);
      q = this.norms[0].forward(q);
      q = this.norms[1].forward(this.selfAttn.forward(q, q, q, queryPos, queryPos));
      return this.norms[2].forward(this.ffn.forward(q));
    });
  }
}

/** `layers.0 … layers.{n−1}` and `post_norm`. */
export class Mask2FormerTransformerDecoder extends Module {
  readonly layers: DecoderLayer[] = [];
  readonly postNorm: LayerNorm;
  constructor(numLayers: number, dim: number, heads: number, ffnHidden: number) {
    super();
    for (let i = 0; i < numLayers; i++)
      this.layers.push(this.child(`layers.${i}`, new DecoderLayer(dim, heads, ffnHidden)));
    this.postNorm = this.child('post_norm', new LayerNorm(dim));
  }
}
