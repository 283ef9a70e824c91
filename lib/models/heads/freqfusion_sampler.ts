/**
 * FreqFusion's offset generator `LocalSimGuidedSampler` (Chen et al., TPAMI 2024), as the OffSeg
 * head builds it: scale 2, style 'lp', 4 groups, kernel 3, local window 3, cosine similarity at
 * dilation 2, direction_feat 'sim' (the offset convs see the 8 similarities, the scale convs see
 * the GroupNorm'ed features), GroupNorm on. Upstream: `LocalSimGuidedSampler` in FreqFusion.py.
 *
 * Reference: FreqFusion repo, SegNeXt/mmseg/models/decode_heads/FreqFusion.py (the 'sim' copy).
 * State-dict keys: offset, direct_scale, hr_offset, hr_direct_scale, norm_hr, norm_lr, init_pos.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { Conv2d } from '../layers/conv.ts';
import { GroupNorm } from '../layers/norm.ts';
import { gridSample } from '../../ops/grid_sample.ts';
import { pixelShuffle, pixelUnshuffle } from '../../ops/pixel_shuffle.ts';

/** F.cosine_similarity's eps; PyTorch clamps each norm: a·b / (max(‖a‖, eps)·max(‖b‖, eps)). */
const COS_EPS = 1e-8;

/**
 * Cosine similarity of every pixel with its 3×3 neighbours at dilation 2 (zero padding 2), the
 * centre dropped: [B, H, W, C] → [B, H, W, 8], channels in row-major tap order without the
 * centre. A zero-padded tap has similarity 0.
 *
 * The per-norm eps clamp is applied to squared norms (max(‖a‖², eps²)), which is the same value
 * and avoids √0 (whose gradient is infinite) on the padding.
 */
export function localCosineSimilarity(x: tf.Tensor4D, window = 3, dilation = 2): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const sq = tf.sum(tf.square(x), 3, true); // (B, H, W, 1)
    const xn = tf.mul(x, tf.rsqrt(tf.maximum(sq, COS_EPS * COS_EPS))); // (B, H, W, C) unit vectors
    const p = Math.floor(window / 2) * dilation;
    const xp = tf.pad(xn, [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ]); // (B, H+2p, W+2p, C)
    const centre = Math.floor((window * window) / 2);
    const sims: tf.Tensor[] = [];
    for (let t = 0; t < window * window; t++) {
      if (t === centre) continue;
      const dy = Math.floor(t / window) * dilation;
      const dx = (t % window) * dilation;
      const nb = tf.slice(xp, [0, dy, dx, 0], [b, h, w, c]); // (B, H, W, C)
      sims.push(tf.sum(tf.mul(xn, nb), 3)); // (B, H, W)
    }
    return tf.stack(sims, 3) as tf.Tensor4D; // (B, H, W, window²−1)
  });
}

/**
 * init_pos (1, 2·G·4, 1, 1): channel (xy·G + g)·4 + dy·2 + dx holds (dx − 0.5)/2 for xy = 0
 * (x offsets) and (dy − 0.5)/2 for xy = 1, i.e. the ±0.25 sub-pixel grid.
 */
export function initPos(groups: number, scale = 2): Float32Array {
  const s2 = scale * scale;
  const out = new Float32Array(2 * groups * s2);
  for (let xy = 0; xy < 2; xy++) {
    for (let g = 0; g < groups; g++) {
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const d = xy === 0 ? dx : dy;
          out[(xy * groups + g) * s2 + dy * scale + dx] = (d - (scale - 1) / 2) / scale;
        }
      }
    }
  }
  return out;
}

export class LocalSimGuidedSampler extends Module {
  readonly scale = 2;
  readonly offset: Conv2d;
  readonly directScale: Conv2d;
  readonly hrOffset: Conv2d;
  readonly hrDirectScale: Conv2d;
  readonly normHr: GroupNorm;
  readonly normLr: GroupNorm;
  readonly initPosBuf: tf.Variable;

  constructor(
    readonly inChannels: number,
    readonly groups = 4,
    readonly kernelSize = 3,
    readonly localWindow = 3,
  ) {
    super();
    if (inChannels % 8 !== 0 || inChannels % groups !== 0) {
      throw new Error(
        `LocalSimGuidedSampler: ${inChannels} channels must be a multiple of 8 and ${groups}`,
      );
    }
    const sim = localWindow * localWindow - 1;
    const lrOut = 2 * groups * this.scale * this.scale;
    const hrOut = 2 * groups;
    const conv = (cin: number, cout: number): Conv2d =>
      new Conv2d(cin, cout, { kernel: kernelSize, padding: Math.floor(kernelSize / 2) });
    // The module's own init (offset std 0.001, direct_scale 0) is overwritten by FreqFusion's
    // Xavier pass (FreqFusion.init_weights), so the layers' default draws are placeholders here.
    this.offset = this.child('offset', conv(sim, lrOut));
    this.directScale = this.child('direct_scale', conv(inChannels, lrOut));
    this.hrOffset = this.child('hr_offset', conv(sim, hrOut));
    this.hrDirectScale = this.child('hr_direct_scale', conv(inChannels, hrOut));
    this.normHr = this.child('norm_hr', new GroupNorm(inChannels / 8, inChannels));
    this.normLr = this.child('norm_lr', new GroupNorm(inChannels / 8, inChannels));
    this.initPosBuf = this.buffer(
      'init_pos',
      tf.tensor4d(initPos(groups, this.scale), [1, lrOut, 1, 1]), // torch (1, 2·G·4, 1, 1)
    );
  }

  /**
   * Offsets in low-res pixel units, [B, h, w, 2·G·4], channel (xy·G + g)·4 + dy·2 + dx
   * (torch layout of `offset` in `get_offset_lp`, init_pos included).
   */
  computeOffset(hrX: tf.Tensor4D, lrX: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const hx = this.normHr.forward(hrX); // (B, H, W, Cc)
      const lx = this.normLr.forward(lrX); // (B, h, w, Cc)
      const hs = localCosineSimilarity(hx, this.localWindow, 2); // (B, H, W, 8)
      const ls = localCosineSimilarity(lx, this.localWindow, 2); // (B, h, w, 8)
      const s = this.scale;
      // pixel_unshuffle keeps PyTorch's c·4 + dy·2 + dx channel order (docs/architecture.md).
      const off = tf.add(this.offset.forward(ls), pixelUnshuffle(this.hrOffset.forward(hs), s)); // (B, h, w, 32)
      const gate = tf.sigmoid(
        tf.add(this.directScale.forward(lx), pixelUnshuffle(this.hrDirectScale.forward(hx), s)),
      ); // (B, h, w, 32)
      const pos = tf.reshape(this.initPosBuf, [1, 1, 1, -1]); // (1, 1, 1, 32)
      return tf.add(tf.mul(off, gate), pos) as tf.Tensor4D;
    });
  }

  /**
   * Bilinear resampling of feat [B, 2h, 2w, C] by the offsets [B, h, w, 2·G·4]
   * (`LocalSimGuidedSampler.sample`): coordinates are the low-res pixel centres plus the offset, normalised
   * by the low-res size, pixel-shuffled ×2; channels are split into G contiguous groups.
   */
  sample(feat: tf.Tensor4D, offset: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, oc] = offset.shape;
      const [, hh, ww, c] = feat.shape;
      const g = this.groups;
      if (oc !== 2 * g * this.scale * this.scale) {
        throw new Error(
          `sample: expected ${2 * g * this.scale * this.scale} offset channels, got ${oc}`,
        );
      }
      const [ox, oy] = tf.split(offset, 2, 3); // 2 × (B, h, w, G·4): x then y
      const cx = tf.reshape(tf.add(tf.range(0, w, 1, 'float32'), 0.5), [1, 1, w, 1]); // (1,1,w,1)
      const cy = tf.reshape(tf.add(tf.range(0, h, 1, 'float32'), 0.5), [1, h, 1, 1]); // (1,h,1,1)
      // As the reference: 2·(coords + offset)/[w, h] − 1.
      const gx = tf.sub(tf.div(tf.mul(tf.add(cx, ox), 2), w), 1); // (B, h, w, G·4)
      const gy = tf.sub(tf.div(tf.mul(tf.add(cy, oy), 2), h), 1); // (B, h, w, G·4)
      const coords = tf.concat([gx, gy], 3) as tf.Tensor4D; // (B, h, w, 2·G·4)
      const shuffled = pixelShuffle(coords, this.scale); // (B, 2h, 2w, 2·G), channel xy·G + g
      const grid5 = tf.reshape(shuffled, [b, hh, ww, 2, g]); // (B, H, W, xy, G)
      const grid = tf.reshape(tf.transpose(grid5, [0, 4, 1, 2, 3]), [
        b * g,
        hh,
        ww,
        2,
      ]) as tf.Tensor4D; // (B·G, H, W, 2)
      // Contiguous channel groups: channel = g·(C/G) + j.
      const f5 = tf.reshape(feat, [b, hh, ww, g, c / g]); // (B, H, W, G, C/G)
      const fg = tf.reshape(tf.transpose(f5, [0, 3, 1, 2, 4]), [
        b * g,
        hh,
        ww,
        c / g,
      ]) as tf.Tensor4D; // (B·G, H, W, C/G)
      const out = gridSample(fg, grid, this.path); // (B·G, H, W, C/G)
      const o5 = tf.reshape(out, [b, g, hh, ww, c / g]); // (B, G, H, W, C/G)
      return tf.reshape(tf.transpose(o5, [0, 2, 3, 1, 4]), [b, hh, ww, c]) as tf.Tensor4D; // (B, H, W, C)
    });
  }

  /** hrX [B, 2h, 2w, Cc], lrX [B, h, w, Cc], feat [B, 2h, 2w, C] → [B, 2h, 2w, C]. */
  forward(hrX: tf.Tensor4D, lrX: tf.Tensor4D, feat: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.sample(feat, this.computeOffset(hrX, lrX)));
  }
}
