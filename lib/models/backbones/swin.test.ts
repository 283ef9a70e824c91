/**
 * Swin-T: parameters counted by construction (per module, against a hand-computed total), the
 * mmseg key list, output shapes on sizes that need window and merge padding, and shifted window
 * attention and patch merging against float64 loops written from the definition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../../test/helpers/parity.ts';
import { withInitSeed } from '../core/init.ts';
import {
  relativePositionIndex,
  shiftedWindowMask,
  SWIN_VARIANTS,
  SwinTransformer,
} from './swin.ts';

await useBackend('wasm');

const swinT = withInitSeed(0, () => new SwinTransformer(SWIN_VARIANTS.swin_t));

/** Parameters of one Swin block of width C with h heads and window 7, from its modules. */
function blockParams(c: number, h: number): number {
  const norms = 2 * (2 * c);
  const qkv = c * 3 * c + 3 * c;
  const proj = c * c + c;
  const table = 13 * 13 * h;
  const ffn = c * 4 * c + 4 * c + 4 * c * c + c;
  return norms + qkv + proj + table + ffn;
}

test('Swin-T parameters: every module by construction, 27,520,698 in all', () => {
  const byPrefix = (p: string) =>
    swinT
      .namedParameters()
      .filter((e) => e.key.startsWith(p))
      .reduce((a, e) => a + e.variable.size, 0);
  assert.equal(byPrefix('patch_embed.'), 3 * 96 * 16 + 96 + 2 * 96);
  const dims = [96, 192, 384, 768];
  const heads = [3, 6, 12, 24];
  const depths = [2, 2, 6, 2];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < depths[i]; j++)
      assert.equal(byPrefix(`stages.${i}.blocks.${j}.`), blockParams(dims[i], heads[i]));
    const merge = i < 3 ? 2 * 4 * dims[i] + 4 * dims[i] * 2 * dims[i] : 0;
    assert.equal(byPrefix(`stages.${i}.downsample.`), merge);
    assert.equal(byPrefix(`norm${i}.`), 2 * dims[i]);
  }
  // Hand total: stem 4,896; blocks 224,694 + 891,756 + 10,658,952 + 14,183,856;
  // merging 74,496 + 296,448 + 1,182,720; output norms 2,880.
  assert.equal(swinT.numParams(), 27_520_698);
});

test('Swin-T state_dict keys are mmseg swin.py module names', () => {
  const want: string[] = ['patch_embed.projection.weight', 'patch_embed.projection.bias'];
  want.push('patch_embed.norm.weight', 'patch_embed.norm.bias');
  const depths = [2, 2, 6, 2];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < depths[i]; j++) {
      const b = `stages.${i}.blocks.${j}`;
      for (const m of ['norm1', 'norm2']) want.push(`${b}.${m}.weight`, `${b}.${m}.bias`);
      want.push(`${b}.attn.w_msa.relative_position_bias_table`);
      want.push(`${b}.attn.w_msa.relative_position_index`);
      for (const m of ['qkv', 'proj', 'ffn.layers.0.0', 'ffn.layers.1'].map((s) =>
        s.startsWith('ffn') ? `${b}.${s}` : `${b}.attn.w_msa.${s}`,
      ))
        want.push(`${m}.weight`, `${m}.bias`);
    }
    if (i < 3) {
      const d = `stages.${i}.downsample`;
      want.push(`${d}.norm.weight`, `${d}.norm.bias`, `${d}.reduction.weight`);
    }
    want.push(`norm${i}.weight`, `norm${i}.bias`);
  }
  const got = swinT.stateEntries().map((e) => e.key);
  assert.deepEqual([...got].sort(), [...want].sort());
  const idx = swinT.stateEntries().find((e) => e.key.endsWith('relative_position_index'));
  assert.deepEqual(idx?.variable.shape, [49, 49]);
});

test('relative_position_index: corners and centre of the 7×7 window', () => {
  const r = relativePositionIndex(7);
  assert.equal(r[0], 6 * 13 + 6); // same token: offset (0, 0)
  assert.equal(r[0 * 49 + 48], 0); // query (0,0), key (6,6): offset (−6, −6)
  assert.equal(r[48 * 49 + 0], 168); // offset (+6, +6)
  assert.equal(r[6 * 49 + 42], 12); // query (0,6), key (6,0): offset (−6, +6)
});

test('Swin-T output shapes and strides on a padded size (batch 2, 40×60)', () => {
  const x = tf.randomNormal([2, 40, 60, 3]) as tf.Tensor4D;
  const outs = swinT.forward(x);
  assert.deepEqual(
    outs.map((o) => o.shape),
    [
      [2, 10, 15, 96],
      [2, 5, 8, 192],
      [2, 3, 4, 384],
      [2, 2, 2, 768],
    ],
  );
  assert.deepEqual(
    swinT.featureInfo.map((f) => f.stride),
    [4, 8, 16, 32],
  );
  for (const o of outs) assert.ok(o.dataSync().every(Number.isFinite));
  tf.dispose([x, ...outs]);
});

/** Row-major float64 copy of a tensor. */
const f64 = (t: tf.Tensor) => Float64Array.from(t.dataSync());

/**
 * Shifted window attention of one map [H,W,C] written from the definition: pad to multiples of
 * ws, roll by −s, attend inside each window with bias table[idx] and −100 between regions, roll
 * back, crop. Weights in torch layout order (qkv (C,3C) as ours stores (in, out)).
 */
function windowAttentionRef(
  x: Float64Array,
  [h, w, c]: number[],
  p: { qkvW: Float64Array; qkvB: Float64Array; projW: Float64Array; projB: Float64Array },
  table: Float64Array,
  heads: number,
  ws: number,
  s: number,
): Float64Array {
  const hp = Math.ceil(h / ws) * ws;
  const wp = Math.ceil(w / ws) * ws;
  const d = c / heads;
  // shifted padded map: position (i, j) holds original (i + s, j + s) mod padded size
  const at = (i: number, j: number, ch: number) => {
    const oi = (i + s) % hp;
    const oj = (j + s) % wp;
    return oi < h && oj < w ? x[(oi * w + oj) * c + ch] : 0;
  };
  const mask = s > 0 ? shiftedWindowMask(hp, wp, ws, s) : undefined;
  const idx = relativePositionIndex(ws);
  const n = ws * ws;
  const out = new Float64Array(h * w * c);
  for (let a = 0; a < hp / ws; a++) {
    for (let b = 0; b < wp / ws; b++) {
      const tok = Array.from({ length: n }, (_, t) => [
        a * ws + Math.floor(t / ws),
        b * ws + (t % ws),
      ]);
      const qkv = tok.map(([i, j]) => {
        const r = new Float64Array(3 * c);
        for (let o = 0; o < 3 * c; o++) {
          let acc = p.qkvB[o];
          for (let ch = 0; ch < c; ch++) acc += at(i, j, ch) * p.qkvW[ch * 3 * c + o];
          r[o] = acc;
        }
        return r;
      });
      const win = (a * (wp / ws) + b) * n * n;
      for (let qi = 0; qi < n; qi++) {
        const merged = new Float64Array(c);
        for (let hd = 0; hd < heads; hd++) {
          const logits = new Float64Array(n);
          for (let ki = 0; ki < n; ki++) {
            let dot = 0;
            for (let e = 0; e < d; e++) dot += qkv[qi][hd * d + e] * qkv[ki][c + hd * d + e];
            logits[ki] =
              dot / Math.sqrt(d) +
              table[idx[qi * n + ki] * heads + hd] +
              (mask ? mask[win + qi * n + ki] : 0);
          }
          const mx = Math.max(...logits);
          const ex = logits.map((l) => Math.exp(l - mx));
          const z = ex.reduce((u, v) => u + v, 0);
          for (let ki = 0; ki < n; ki++)
            for (let e = 0; e < d; e++)
              merged[hd * d + e] += (ex[ki] / z) * qkv[ki][2 * c + hd * d + e];
        }
        const [i, j] = tok[qi];
        const oi = (i + s) % hp;
        const oj = (j + s) % wp;
        if (oi >= h || oj >= w) continue;
        for (let o = 0; o < c; o++) {
          let acc = p.projB[o];
          for (let ch = 0; ch < c; ch++) acc += merged[ch] * p.projW[ch * c + o];
          out[(oi * w + oj) * c + o] = acc;
        }
      }
    }
  }
  return out;
}

test('shifted and plain window attention equal a float64 loop (padding, wrap-around mask)', () => {
  const net = withInitSeed(
    3,
    () => new SwinTransformer({ embedDims: 6, depths: [2], numHeads: [2], windowSize: 3 }),
  );
  const [h, w, c] = [5, 7, 6];
  for (const j of [0, 1]) {
    const attn = net.blocks[0][j].attn;
    // a random table so the bias matters
    attn.wMsa.table.assign(tf.randomNormal(attn.wMsa.table.shape));
    const x = tf.randomNormal([1, h, w, c]) as tf.Tensor4D;
    const y = attn.forward(x);
    const ref = windowAttentionRef(
      f64(x),
      [h, w, c],
      {
        qkvW: f64(attn.wMsa.qkv.weight),
        qkvB: f64(attn.wMsa.qkv.bias!),
        projW: f64(attn.wMsa.proj.weight),
        projB: f64(attn.wMsa.proj.bias!),
      },
      f64(attn.wMsa.table),
      2,
      3,
      attn.shift,
    );
    const yd = y.dataSync();
    const err = Math.max(...ref.map((v, i) => Math.abs(v - yd[i])));
    assert.equal(attn.shift, j === 1 ? 1 : 0);
    assert.ok(err < 1e-5, `block ${j} (shift ${attn.shift}): max |Δ| ${err}`);
    tf.dispose([x, y]);
  }
  net.dispose();
});

test('patch merging: nn.Unfold channel order c·4 + (dy·2 + dx), odd sizes padded', () => {
  const net = withInitSeed(
    4,
    () => new SwinTransformer({ embedDims: 2, depths: [1, 1], numHeads: [1, 1], windowSize: 3 }),
  );
  const pm = net.downsamples[0]!;
  const [h, w, c] = [3, 5, 2];
  const x = tf.randomNormal([1, h, w, c]) as tf.Tensor4D;
  const y = pm.forward(x);
  assert.deepEqual(y.shape, [1, 2, 3, 4]);
  const xd = f64(x);
  const rw = f64(pm.reduction.weight); // (4C, 2C)
  const yd = y.dataSync();
  let err = 0;
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      const u = new Float64Array(4 * c);
      for (let ch = 0; ch < c; ch++)
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) {
            const yy = 2 * i + dy;
            const xx = 2 * j + dx;
            u[ch * 4 + dy * 2 + dx] = yy < h && xx < w ? xd[(yy * w + xx) * c + ch] : 0;
          }
      const mean = u.reduce((a, v) => a + v, 0) / u.length;
      const vr = u.reduce((a, v) => a + (v - mean) ** 2, 0) / u.length;
      const nu = u.map((v) => (v - mean) / Math.sqrt(vr + 1e-5));
      for (let o = 0; o < 2 * c; o++) {
        let acc = 0;
        for (let k = 0; k < 4 * c; k++) acc += nu[k] * rw[k * 2 * c + o];
        err = Math.max(err, Math.abs(acc - yd[(i * 3 + j) * 2 * c + o]));
      }
    }
  }
  assert.ok(err < 1e-5, `max |Δ| ${err}`);
  tf.dispose([x, y]);
  net.dispose();
});
