/**
 * Attention biases of the EfficientFormerV2 segmentation backbone (`attention_biases` / `attention_bias_idxs` in efficientformer_v2.py).
 *
 * A learnable table `attention_biases_seg` (heads, R²) is indexed by the relative offset of a
 * query on an Rq×Rq grid (stride s) and a key on an R×R grid:
 *   idx(q, k) = |s·h_q − h_k|·R + |s·w_q − w_k|      (row-major tokens, n = h·W + w)
 * giving the (heads, Rq², R²) matrix B, which torch then resizes BICUBICALLY as a flattened
 * token×token matrix to the actual (N, M) token counts (identity at the 512×512 build size).
 *
 * The gather is written as two products with constant one-hot matrices D[(h_q,h_k), a] =
 * [a = |s·h_q − h_k|] (separable in rows and columns), so it is exact (one 1·t term per output),
 * tiny (Rq·R × R) and differentiable on every backend without a GatherV2 gradient
 * (UnsortedSegmentSum). The resize is W_r · B · W_cᵀ with torch's bicubic matrices.
 *
 * Caching (the official module caches the gathered table in eval): in eval mode the resized bias
 * is cached per (N, M) and reused while the table variable is unchanged (its dataId changes on
 * every assign, e.g. a checkpoint load or an optimizer step). Training always recomputes, so
 * gradients reach the table.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bicubicMatrixTensor, resizeBicubicLast2 } from '../../ops/bicubic.ts';
import { recordOp } from '../../ops/trace.ts';

export interface BiasGeometry {
  heads: number;
  /** Key grid side R (the table has R² entries per head). */
  keyRes: number;
  /** Query grid side Rq (= R for Attention4D, ceil(R/2) for the downsample). */
  queryRes: number;
  /** Query stride s in key-grid units (1, or ceil(R/Rq) = 2 for the downsample). */
  queryStride: number;
}

/**
 * The official `attention_bias_idxs_seg` buffer (Rq², R²), built as the reference does: offsets
 * numbered in order of first appearance. For these grids that equals the formula above.
 */
export function biasIndexTable(g: BiasGeometry): Int32Array {
  const { keyRes: r, queryRes: rq, queryStride: s } = g;
  const ids = new Map<string, number>();
  const out = new Int32Array(rq * rq * r * r);
  let i = 0;
  for (let hq = 0; hq < rq; hq++) {
    for (let wq = 0; wq < rq; wq++) {
      for (let hk = 0; hk < r; hk++) {
        for (let wk = 0; wk < r; wk++) {
          const key = `${Math.abs(s * hq - hk)},${Math.abs(s * wq - wk)}`;
          let id = ids.get(key);
          if (id === undefined) ids.set(key, (id = ids.size));
          out[i++] = id;
        }
      }
    }
  }
  if (ids.size !== r * r) throw new Error(`bias table: ${ids.size} offsets, expected ${r * r}`);
  return out;
}

/** D [(Rq·R), R]: D[(i_q, i_k), a] = 1 iff a = |s·i_q − i_k|. */
function offsetSelector(g: BiasGeometry): tf.Tensor2D {
  const { keyRes: r, queryRes: rq, queryStride: s } = g;
  const d = new Float32Array(rq * r * r);
  for (let iq = 0; iq < rq; iq++) {
    for (let ik = 0; ik < r; ik++) d[(iq * r + ik) * r + Math.abs(s * iq - ik)] = 1;
  }
  return tf.tensor2d(d, [rq * r, r]);
}

interface CachedBias {
  dataId: object;
  bias: tf.Tensor3D;
}

/** Gathers and resizes one module's bias table; owns the module's constant and cached tensors. */
export class SegAttentionBias {
  private selector?: tf.Tensor2D;
  private readonly matrices = new Map<string, tf.Tensor2D>();
  private readonly resized = new Map<string, CachedBias>();

  constructor(
    private readonly table: tf.Variable,
    readonly geometry: BiasGeometry,
    /** Most (N, M) sizes kept in the eval cache (oldest dropped first). */
    private readonly maxCached = 4,
  ) {
    const { heads, keyRes: r } = geometry;
    if (table.shape[0] !== heads || table.shape[1] !== r * r) {
      throw new Error(`bias table shape [${table.shape}] != [${heads}, ${r * r}]`);
    }
  }

  /** Table-sized bias matrix B (heads, Rq², R²), differentiable w.r.t. the table. */
  gathered(): tf.Tensor3D {
    const { heads: nh, keyRes: r, queryRes: rq } = this.geometry;
    this.selector ??= tf.keep(offsetSelector(this.geometry));
    const d = this.selector;
    return tf.tidy(() => {
      const t = tf.reshape(this.table, [nh * r, r]); // (nh·a, b): table index a·R + b
      // Columns: Y[h, a, (w_q, w_k)] = Σ_b T[h, a, b]·D[(w_q, w_k), b]
      const y = tf.matMul(t, d, false, true); // (nh·R, Rq·R)
      const ya = tf.reshape(tf.transpose(tf.reshape(y, [nh, r, rq * r]), [1, 0, 2]), [
        r,
        nh * rq * r,
      ]); // (a, nh·(w_q, w_k))
      // Rows: Z[(h_q, h_k), h, (w_q, w_k)] = Σ_a D[(h_q, h_k), a]·Y[a, h, (w_q, w_k)]
      const z = tf.reshape(tf.matMul(d, ya), [rq, r, nh, rq, r]); // (h_q, h_k, nh, w_q, w_k)
      const b = tf.transpose(z, [2, 0, 3, 1, 4]); // (nh, h_q, w_q, h_k, w_k)
      return tf.reshape(b, [nh, rq * rq, r * r]); // (nh, N_t, M_t): tokens row-major
    });
  }

  private matrix(out: number, inp: number): tf.Tensor2D {
    const key = `${out}x${inp}`;
    let m = this.matrices.get(key);
    if (!m) this.matrices.set(key, (m = tf.keep(bicubicMatrixTensor(out, inp))));
    return m;
  }

  /**
   * Bias (heads, N, M) for N query and M key tokens. In eval mode the returned tensor is owned
   * by this cache: do not dispose it.
   */
  get(n: number, m: number, training: boolean, scope = ''): tf.Tensor3D {
    const { keyRes: r, queryRes: rq } = this.geometry;
    const nt = rq * rq;
    const mt = r * r;
    const compute = (): tf.Tensor3D =>
      tf.tidy(() =>
        resizeBicubicLast2(this.gathered(), [n, m], scope, {
          rows: n === nt ? undefined : this.matrix(n, nt),
          cols: m === mt ? undefined : this.matrix(m, mt),
        }),
      );
    if (training) return compute();
    const key = `${n}x${m}`;
    const dataId = this.table.dataId as object;
    const hit = this.resized.get(key);
    if (hit && hit.dataId === dataId) {
      // torch interpolates on every forward; keep the op trace identical to an uncached call.
      recordOp('upsample_bicubic', 0, scope, [[this.geometry.heads, nt, mt], [...hit.bias.shape]]);
      return hit.bias;
    }
    if (hit) hit.bias.dispose();
    this.resized.delete(key);
    const bias = tf.keep(compute());
    this.resized.set(key, { dataId, bias });
    if (this.resized.size > this.maxCached) {
      const [oldest, entry] = this.resized.entries().next().value as [string, CachedBias];
      entry.bias.dispose();
      this.resized.delete(oldest);
    }
    return bias;
  }

  /** Number of resized biases currently cached (for tests). */
  get cachedSizes(): number {
    return this.resized.size;
  }

  clear(): void {
    for (const c of this.resized.values()) c.bias.dispose();
    this.resized.clear();
    for (const m of this.matrices.values()) m.dispose();
    this.matrices.clear();
    this.selector?.dispose();
    this.selector = undefined;
  }
}
