/**
 * FreqFusion (Chen et al., "Frequency-aware Feature Fusion for Dense Image Prediction", TPAMI
 * 2024) exactly as OffSeg's `OffSegHead` builds it: only hr_channels, lr_channels and
 * compressed_channels are given, everything else is the class default of the SegNeXt copy
 * (lowpass 5, highpass 3, up_group 1, encoder kernel 3, feature_resample with 4 groups and the
 * 'sim' direction variant, comp_feat_upsample, semi_conv, hr_residual, hamming_window False).
 * Upstream: `FreqFusion` in FreqFusion.py (Chen et al., TPAMI 2024); docs/models.md.
 *
 * Reference: FreqFusion repo, SegNeXt/mmseg/models/decode_heads/FreqFusion.py. Deviations: none
 * in values. The kernel normaliser is a softmax over the k² taps; the reference then multiplies
 * by the Hamming window (the constant 1 here) and divides by the window sum, which is 1 up to
 * rounding and leaves the gradient unchanged, so that step is skipped.
 *
 * Parameters ('sim' variant, counted with torch): (C_hr + C_lr + 672)·Cc + 2,994, e.g.
 * FreqFusion(64, 128, 48) = 44,466.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../core/module.ts';
import { normal, xavierUniform } from '../core/init.ts';
import { Conv2d } from '../layers/conv.ts';
import { carafe } from '../../ops/carafe.ts';
import { resizeNearest } from '../../ops/resize.ts';
import { LocalSimGuidedSampler } from './freqfusion_sampler.ts';

export { LocalSimGuidedSampler } from './freqfusion_sampler.ts';

export interface FreqFusionOptions {
  /** Channels of the high-resolution input (H×W). */
  hrChannels: number;
  /** Channels of the low-resolution input (H/2×W/2). */
  lrChannels: number;
  /** Compressed channels Cc; OffSeg uses (C_hr + C_lr) // 4. Must be a multiple of 8. */
  compressedChannels: number;
}

export interface FreqFusionOutput {
  /** Normalised 5×5 low-pass kernels [B, H, W, 25] (the reference's 1st return; unused by OffSeg). */
  maskLr: tf.Tensor4D;
  /** High-pass-enhanced hr feature [B, H, W, C_hr]. */
  hrOut: tf.Tensor4D;
  /** lr upsampled by CARAFE ×2 then resampled by the offset generator [B, H, W, C_lr]. */
  lrOut: tf.Tensor4D;
  /** Present when forward was asked for it. */
  debug?: {
    /** lr after the ×2 CARAFE, before resampling [B, H, W, C_lr]. */
    lrCarafeUpsampled: tf.Tensor4D;
    /** Offsets handed to the sampler [B, H/2, W/2, 32], torch channel order, init_pos included. */
    resampleOffset: tf.Tensor4D;
  };
}

const LOWPASS = 5;
const HIGHPASS = 3;
const ENCODER_KERNEL = 3;
const RESAMPLE_GROUPS = 4;

/** Softmax over the k² taps of each pixel (kernel_normalizer with up_group 1, no window). */
function normaliseKernels(mask: tf.Tensor4D): tf.Tensor4D {
  return tf.softmax(mask, -1);
}

/** Overwrite a variable with a fresh value and free the value. */
function assignInit(v: tf.Variable, value: tf.Tensor): void {
  v.assign(value);
  value.dispose();
}

export class FreqFusion extends Module {
  readonly hrChannelCompressor: Conv2d;
  readonly lrChannelCompressor: Conv2d;
  readonly contentEncoder: Conv2d;
  readonly dysampler: LocalSimGuidedSampler;
  readonly contentEncoder2: Conv2d;

  constructor(readonly opts: FreqFusionOptions) {
    super();
    const cc = opts.compressedChannels;
    const encoder = (cout: number): Conv2d =>
      new Conv2d(cc, cout, { kernel: ENCODER_KERNEL, padding: (ENCODER_KERNEL - 1) / 2 });
    // Registration order follows the reference (state_dict order).
    this.hrChannelCompressor = this.child('hr_channel_compressor', new Conv2d(opts.hrChannels, cc));
    this.lrChannelCompressor = this.child('lr_channel_compressor', new Conv2d(opts.lrChannels, cc));
    this.contentEncoder = this.child('content_encoder', encoder(LOWPASS * LOWPASS)); // ALPF
    this.dysampler = this.child(
      'dysampler',
      new LocalSimGuidedSampler(cc, RESAMPLE_GROUPS, ENCODER_KERNEL),
    );
    this.contentEncoder2 = this.child('content_encoder2', encoder(HIGHPASS * HIGHPASS)); // AHPF
    // hamming_window=False registers the scalar window 1.0 (persistent, in the official keys).
    this.buffer('hamming_lowpass', tf.tensor1d([1]));
    this.buffer('hamming_highpass', tf.tensor1d([1]));
    this.initWeights();
  }

  /**
   * The reference's init_weights: Xavier-uniform weights and zero bias for
   * every Conv2d, the resampler's included (this overwrites its own offset/scale init), then
   * normal(0, 0.001) and zero bias for both content encoders.
   */
  private initWeights(): void {
    for (const [, m] of this.namedModules()) {
      if (!(m instanceof Conv2d)) continue;
      const [kh, kw, cin, cout] = m.weight.shape;
      assignInit(m.weight, xavierUniform([kh, kw, cin, cout], cin * kh * kw, cout * kh * kw));
      if (m.bias) assignInit(m.bias, tf.zeros(m.bias.shape));
    }
    for (const enc of [this.contentEncoder, this.contentEncoder2]) {
      assignInit(enc.weight, normal([...enc.weight.shape], 0.001));
      if (enc.bias) assignInit(enc.bias, tf.zeros(enc.bias.shape));
    }
  }

  /**
   * hr [B, H, W, C_hr], lr [B, H/2, W/2, C_lr] → { maskLr, hrOut, lrOut }.
   * With `debug`, also returns the CARAFE-upsampled lr and the resampling offsets.
   */
  forward(hr: tf.Tensor4D, lr: tf.Tensor4D, opts: { debug?: boolean } = {}): FreqFusionOutput {
    const [, hh, ww] = hr.shape;
    const [, h, w] = lr.shape;
    if (hh !== 2 * h || ww !== 2 * w) {
      throw new Error(`FreqFusion: hr ${hh}×${ww} must be exactly twice lr ${h}×${w}`);
    }
    const scope = this.path;
    const size: [number, number] = [hh, ww];
    const [maskLr, hrOut, lrOut, lrUp, offset] = tf.tidy(() => {
      // 1. channel compression.
      let ch = this.hrChannelCompressor.forward(hr); // (B, H, W, Cc)
      const cl = this.lrChannelCompressor.forward(lr); // (B, h, w, Cc)
      // 2. high-pass sharpening of the compressed hr: ch ← 2·ch − CARAFE(ch, norm₃(m_hh)).
      const mHH = this.contentEncoder2.forward(ch); // (B, H, W, 9)
      ch = tf.sub(
        tf.add(ch, ch),
        carafe(ch, normaliseKernels(mHH), HIGHPASS, 1, 1, scope),
      ) as tf.Tensor4D;
      // 3. low-pass kernel map: m_l = E_l(ch) + nearest(CARAFE(E_l(cl), norm₅(E_l(ch)), s=2)).
      const mLH = this.contentEncoder.forward(ch); // (B, H, W, 25)
      const mLLlr = this.contentEncoder.forward(cl); // (B, h, w, 25)
      const mLL = resizeNearest(
        carafe(mLLlr, normaliseKernels(mLH), LOWPASS, 1, 2, scope),
        size,
        scope,
      ); // (B, H, W, 25); same size, so an identity that torch still runs
      const mL = tf.add(mLH, mLL) as tf.Tensor4D; // (B, H, W, 25)
      const kL = normaliseKernels(mL); // (B, H, W, 25) = the returned mask_lr
      // 4. high-pass kernel map: m_h = m_hh + nearest(CARAFE(E_h(cl), norm₅(m_l), s=2)).
      const mHL = resizeNearest(
        carafe(this.contentEncoder2.forward(cl), kL, LOWPASS, 1, 2, scope),
        size,
        scope,
      ); // (B, H, W, 9)
      const mH = tf.add(mHH, mHL) as tf.Tensor4D; // (B, H, W, 9)
      // 5. adaptive low-pass upsampling of the raw lr.
      const lrUp = carafe(lr, kL, LOWPASS, 1, 2, scope); // (B, H, W, C_lr)
      // 6. adaptive high-pass residual on the raw hr: hr + (hr − CARAFE(hr, norm₃(m_h))).
      const hrHf = tf.sub(hr, carafe(hr, normaliseKernels(mH), HIGHPASS, 1, 1, scope)); // (B, H, W, C_hr)
      const hrOut = tf.add(hrHf, hr) as tf.Tensor4D; // (B, H, W, C_hr)
      // 7. resampling by the offset generator (sharpened ch, compressed lr).
      const offset = this.dysampler.computeOffset(ch, cl); // (B, h, w, 32)
      const lrOut = this.dysampler.sample(lrUp, offset); // (B, H, W, C_lr)
      return [kL, hrOut, lrOut, lrUp, offset] as tf.Tensor4D[];
    });
    if (opts.debug) {
      return { maskLr, hrOut, lrOut, debug: { lrCarafeUpsampled: lrUp, resampleOffset: offset } };
    }
    lrUp.dispose();
    offset.dispose();
    return { maskLr, hrOut, lrOut };
  }
}

/**
 * OffSegHead's fusion of a FreqFusion's outputs (`OffSegHead.forward`): each input is split into
 * `groups` contiguous channel chunks and the chunks are interleaved, giving channels
 * [hr_g0, lr_g0, hr_g1, lr_g1, …]. This is what the reference's reshape(b·4, −1, h, w) +
 * cat(dim=1) produces, and it lines the channels up with the next FreqFusion's 4 resampling
 * groups. hr [B, H, W, Ch], lr [B, H, W, Cl] → [B, H, W, Ch + Cl].
 */
export function groupInterleave(hr: tf.Tensor4D, lr: tf.Tensor4D, groups = 4): tf.Tensor4D {
  const [b, h, w, ch] = hr.shape;
  const cl = lr.shape[3];
  if (ch % groups !== 0 || cl % groups !== 0) {
    throw new Error(`groupInterleave: ${ch} and ${cl} channels must be divisible by ${groups}`);
  }
  return tf.tidy(() => {
    const hg = tf.reshape(hr, [b, h, w, groups, ch / groups]); // (B, H, W, G, Ch/G)
    const lg = tf.reshape(lr, [b, h, w, groups, cl / groups]); // (B, H, W, G, Cl/G)
    return tf.reshape(tf.concat([hg, lg], 4), [b, h, w, ch + cl]); // (B, H, W, Ch + Cl)
  });
}
