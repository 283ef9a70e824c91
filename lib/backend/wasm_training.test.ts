/**
 * A broad training step on WASM end to end: one loss touching every op family the models use
 * (forward + backward). No gradient is compared with tfjs autodiff (of another backend or
 * another formulation); the reference is central differences of the forward (fdCheck,
 * test/helpers/fd_check.ts), on both backends:
 * - run on CPU under tf.profile, every kernel the step used must exist on WASM, and the step
 *   must not leak tensors or WASM buffers;
 * - the loss must agree between the backends;
 * - the parameter gradients must match central differences of the loss with its non-smooth
 *   pieces (ReLU, max pool, where/clip, max of |·|) frozen at the point (see `freezePieces`),
 *   both through an untied max and through Max at the 4-fold tie this step has (tfjs' own Max
 *   gradient is wrong at identical ties; the registered correction splits dy evenly), plus a
 *   minimal repro of the tie: d max(x, x)/dx = 1.
 * The central-difference objective is summed in float64 from per-pixel terms: WASM's float32
 * mean of the 512 losses jitters by ~10 ulp as the input moves, which divided by 2h swamps 1e-3.
 * The gradients we add where tfjs-core has none are checked in ./wasm_added_grads.test.ts, a
 * tiny convnet end to end in ./wasm_tiny_convnet.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fdCheck } from '../../test/helpers/fd_check.ts';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { expectBackendsAgree, randomArray, runOn } from './kernels/testing.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';

await useBackend('wasm');
registerWasmTrainingKernels();
const REL = 1e-4;

/**
 * The non-smooth ops of the broad step, exchangeable so that central differences can be taken
 * through them: LIVE are the tfjs ops (what autodiff differentiates); `freezePieces` records,
 * at one point, which piece of each op every element is on and returns those pieces as fixed
 * smooth maps. Away from the kinks (a measure-zero set) the frozen loss equals the live loss in
 * a neighbourhood of the point, so its central differences are the live loss's derivative,
 * without steps straddling a ReLU kink, a max-pool switch or the where/clip jumps.
 */
interface Pieces {
  relu(t: tf.Tensor4D): tf.Tensor4D;
  /** 2×2 max pool, stride 2, valid. */
  maxPool(t: tf.Tensor4D): tf.Tensor4D;
  /** where(−2 < o < 2.5, clip(o, −1, 1), 0.1·o). */
  clipOrScale(o: tf.Tensor): tf.Tensor;
  /** max(√(|l| + 1)) over all elements. */
  maxRoot(l: tf.Tensor): tf.Scalar;
}

const LIVE: Pieces = {
  relu: (t) => tf.relu(t),
  maxPool: (t) => tf.maxPool(t, 2, 2, 'valid'),
  clipOrScale: (o) =>
    tf.where(
      tf.logicalAnd(tf.greater(o, -2), tf.less(o, 2.5)),
      tf.clipByValue(o, -1, 1),
      tf.mul(o, 0.1),
    ),
  maxRoot: (l) => tf.max(tf.sqrt(tf.add(tf.abs(l), 1))),
};

/**
 * `record` runs LIVE and notes the pieces; `frozen` then applies the noted pieces; `untied` is
 * LIVE except that the max is taken at the recorded element (gather, abs, sqrt): the same
 * function near the point, for autodiff without tfjs' Max gradient (wrong at ties, see below).
 */
function freezePieces(): { record: Pieces; frozen: Pieces; untied: Pieces } {
  let relu = new Float32Array(0);
  let pool = new Int32Array(0);
  let poolShape: [number, number, number, number] = [0, 0, 0, 0];
  let coef = new Float32Array(0); // clipOrScale = o·coef + shift
  let shift = new Float32Array(0);
  let at = -1; // maxRoot's element and its sign
  let sign = 0;
  const record: Pieces = {
    relu: (t) => {
      relu = Float32Array.from(t.dataSync(), (v) => +(v > 0));
      return LIVE.relu(t);
    },
    maxPool: (t) => {
      const [b, h, w, c] = t.shape;
      const v = t.dataSync();
      const [oh, ow] = [Math.floor(h / 2), Math.floor(w / 2)];
      poolShape = [b, oh, ow, c];
      pool = new Int32Array(b * oh * ow * c);
      for (let n = 0; n < b; n++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++)
            for (let ch = 0; ch < c; ch++) {
              let best = -1;
              for (let dy = 0; dy < 2; dy++)
                for (let dx = 0; dx < 2; dx++) {
                  const k = ((n * h + 2 * i + dy) * w + 2 * j + dx) * c + ch;
                  if (best < 0 || v[k] > v[best]) best = k;
                }
              pool[((n * oh + i) * ow + j) * c + ch] = best;
            }
      return LIVE.maxPool(t);
    },
    clipOrScale: (o) => {
      const v = o.dataSync();
      const inside = (u: number): boolean => u > -2 && u < 2.5;
      coef = Float32Array.from(v, (u) => (inside(u) ? +(Math.abs(u) <= 1) : 0.1));
      shift = Float32Array.from(v, (u) => (inside(u) && Math.abs(u) > 1 ? Math.sign(u) : 0));
      return LIVE.clipOrScale(o);
    },
    maxRoot: (l) => {
      const v = l.dataSync();
      at = 0;
      for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[at])) at = i;
      sign = Math.sign(v[at]);
      return LIVE.maxRoot(l);
    },
  };
  const frozen: Pieces = {
    relu: (t) => tf.mul(t, tf.tensor(relu, t.shape)),
    maxPool: (t) =>
      tf.reshape(tf.gather(tf.reshape(t, [-1]), tf.tensor1d(pool, 'int32')), poolShape),
    clipOrScale: (o) => tf.add(tf.mul(o, tf.tensor(coef, o.shape)), tf.tensor(shift, o.shape)),
    maxRoot: (l) =>
      tf.reshape(
        tf.sqrt(
          tf.add(tf.mul(tf.gather(tf.reshape(l, [-1]), tf.tensor1d([at], 'int32')), sign), 1),
        ),
        [],
      ),
  };
  const untied: Pieces = {
    ...LIVE,
    maxRoot: (l) =>
      tf.reshape(
        tf.sqrt(tf.add(tf.abs(tf.gather(tf.reshape(l, [-1]), tf.tensor1d([at], 'int32'))), 1)),
        [],
      ),
  };
  return { record, frozen, untied };
}

const BROAD_PARAMS: Record<string, [number[], number]> = {
  w1: [[3, 3, 3, 8], 0.3],
  w2: [[3, 3, 8, 16], 0.2],
  dw1: [[1, 7, 16, 1], 0.3],
  dw2: [[7, 1, 16, 1], 0.3],
  dw3: [[5, 5, 16, 1], 0.2],
  qkv: [[16, 48], 0.3],
  table: [[9, 2], 1],
  cls: [[16, 5], 0.3],
};
const BROAD_NAMES = Object.keys(BROAD_PARAMS);

/**
 * One loss touching every op family of the OffSeg / SegFormer / SegNeXt training steps, as a
 * function of the parameters (BROAD_NAMES order) for a fixed input x: mean(ce) + 1e-3·max, from
 * the terms [ce per pixel (512), max term].
 */
function broadLoss(ps: tf.Tensor[], x: Float32Array, pieces: Pieces): tf.Scalar {
  const [ce, max] = broadTerms(ps, x, pieces);
  return tf.add(tf.mean(ce), tf.mul(max, 1e-3)) as tf.Scalar;
}

/** The same loss summed in float64 from its terms (objective for central differences). */
function broadLoss64(ps: tf.Tensor[], x: Float32Array, pieces: Pieces): number {
  return tf.tidy(() => {
    const [ce, max] = broadTerms(ps, x, pieces);
    const c = ce.dataSync();
    let s = 0;
    for (let i = 0; i < c.length; i++) s += c[i];
    return s / c.length + 1e-3 * max.dataSync()[0];
  });
}

function broadTerms(ps: tf.Tensor[], x: Float32Array, pieces: Pieces): [tf.Tensor, tf.Scalar] {
  const [w1, w2, dw1, dw2, dw3, qkv, table, cls] = ps;
  const xt = tf.tensor4d(x, [2, 16, 16, 3]);
  const labels = tf.tensor1d(
    Array.from({ length: 2 * 16 * 16 }, (_, i) => (i * 7) % 5),
    'int32',
  );
  const pad = (a: number, b: number): tf.backend_util.ExplicitPadding => [
    [0, 0],
    [a, a],
    [b, b],
    [0, 0],
  ];
  let h = pieces.relu(tf.conv2d(xt, w1 as tf.Tensor4D, 1, pad(1, 1))); // (2,16,16,8)
  h = tf.conv2d(h, w2 as tf.Tensor4D, 2, pad(1, 1)); // (2,8,8,16)
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  h = tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5)));
  const a = tf.depthwiseConv2d(
    tf.depthwiseConv2d(h, dw1 as tf.Tensor4D, 1, pad(0, 3)),
    dw2 as tf.Tensor4D,
    1,
    pad(3, 0),
  );
  h = tf.add(h, tf.mul(a, tf.sigmoid(tf.depthwiseConv2d(h, dw3 as tf.Tensor4D, 1, pad(2, 2)))));
  h = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2)))); // GELU
  // Attention over 8×8 tokens, 2 heads, relative bias gathered from a table.
  const t = tf.reshape(h, [2, 64, 16]);
  const [q, k, vv] = tf.split(
    tf.reshape(tf.matMul(tf.reshape(t, [128, 16]), qkv), [2, 64, 48]),
    3,
    2,
  );
  const heads = (u: tf.Tensor): tf.Tensor =>
    tf.transpose(tf.reshape(u, [2, 64, 2, 8]), [0, 2, 1, 3]); // (2,2,64,8)
  const bias = tf.transpose(
    tf.reshape(
      tf.gather(
        table,
        tf.tensor1d(
          Array.from({ length: 4096 }, (_, i) => i % 9),
          'int32',
        ),
      ),
      [64, 64, 2],
    ),
    [2, 0, 1],
  );
  const att = tf.softmax(tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), 0.35), bias));
  let o = tf.reshape(tf.transpose(tf.matMul(att, heads(vv)), [0, 2, 1, 3]), [2, 8, 8, 16]);
  o = tf.add(
    o,
    tf.reshape(
      tf.gatherND(
        o,
        tf.tensor2d(
          [
            [0, 1, 2],
            [1, 2, 3],
          ],
          [2, 3],
          'int32',
        ),
      ),
      [2, 1, 1, 16],
    ),
  );
  o = pieces.maxPool(
    tf.pad(o, [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ]) as tf.Tensor4D,
  ); // (2,4,4,16)
  // Batch folded into channels: the CPU ResizeNearestNeighborGrad is wrong for batch > 1.
  const nb = tf.reshape(tf.transpose(tf.tile(o, [1, 1, 1, 1]), [1, 2, 0, 3]), [1, 4, 4, 32]);
  o = tf.transpose(
    tf.reshape(tf.image.resizeNearestNeighbor(nb as tf.Tensor4D, [8, 8]), [8, 8, 2, 16]),
    [2, 0, 1, 3],
  );
  o = tf.concat(
    [
      tf.slice(o, [0, 0, 0, 0], [2, 8, 8, 8]),
      tf.stridedSlice(o, [0, 0, 0, 8], [2, 8, 8, 16], [1, 1, 1, 1]),
    ],
    3,
  );
  o = tf.image.resizeBilinear(o as tf.Tensor4D, [16, 16], false, true);
  o = pieces.clipOrScale(o);
  const logits = tf.reshape(tf.matMul(tf.reshape(o, [512, 16]), cls), [512, 5]);
  const onehot = tf.cast(tf.oneHot(labels, 5), 'float32');
  return [tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1)), pieces.maxRoot(logits)];
}

/** [loss, ∂loss/∂param for BROAD_NAMES] by tfjs autodiff on the current backend. */
function broadStep(p: Record<string, Float32Array>, pieces = LIVE): tf.Tensor[] {
  const params = BROAD_NAMES.map((k) => tf.tensor(p[k], BROAD_PARAMS[k][0]));
  const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => broadLoss(ps, p.x, pieces))(
    params,
  );
  return [value, ...grads];
}

function broadParams(): Record<string, Float32Array> {
  const r = new Rng(33);
  const shapes: Record<string, [number[], number]> = { x: [[2, 16, 16, 3], 1], ...BROAD_PARAMS };
  return Object.fromEntries(
    Object.entries(shapes).map(([k, [s, sc]]) => [k, randomArray(r, s, sc)]),
  );
}

describe('broad training step', () => {
  test('every kernel it uses (CPU profile) exists on WASM', async () => {
    const p = broadParams();
    await tf.setBackend('cpu');
    const prof = await tf.profile(() => {
      tf.dispose(broadStep(p));
    });
    await tf.setBackend('wasm');
    // Profile names also include customGrad scopes (e.g. logSoftmax__op): keep real kernels.
    const names = [...new Set(prof.kernelNames)].filter((k) => tf.getKernel(k, 'cpu')).sort();
    const missing = names.filter((k) => !tf.getKernel(k, 'wasm'));
    console.log(`[kernels] training step uses ${names.length}: ${names.join(' ')}`);
    assert.deepEqual(missing, [], `missing on wasm: ${missing.join(', ')}`);
  });
  test('no tensor or WASM buffer leaks', () => {
    const p = broadParams();
    const run = (): void => tf.dispose(tf.tidy(() => broadStep(p)));
    run(); // warm-up (lazily created constants)
    const before = { tensors: tf.memory().numTensors, ids: tf.engine().backend.numDataIds() };
    run();
    assert.equal(tf.memory().numTensors, before.tensors, 'engine tensors leaked');
    assert.equal(tf.engine().backend.numDataIds(), before.ids, 'wasm buffers leaked');
  });
  test('loss agrees with CPU (forward)', async () => {
    const p = broadParams();
    await expectBackendsAgree(
      'broad step loss',
      () => [
        broadLoss(
          BROAD_NAMES.map((k) => tf.tensor(p[k], BROAD_PARAMS[k][0])),
          p.x,
          LIVE,
        ),
      ],
      REL,
    );
  });
  /**
   * Autodiff gradients of the broad step on `be` (with LIVE or the untied max) against central
   * differences of the frozen-piece loss summed in float64, 2 random directions per parameter,
   * step 0.1 along unit-norm directions (≈ 0.1/√n per element, a few % of the parameters).
   */
  async function broadGradCheck(be: 'wasm' | 'cpu', untie: boolean): Promise<void> {
    const p = broadParams();
    const prev = tf.getBackend();
    await tf.setBackend(be);
    try {
      const x0 = BROAD_NAMES.map((k) => p[k]);
      const tensors = (xs: Float32Array[]): tf.Tensor[] =>
        xs.map((v, i) => tf.tensor(v, BROAD_PARAMS[BROAD_NAMES[i]][0]));
      const { record, frozen, untied } = freezePieces();
      const recorded = tf.tidy(() => broadLoss(tensors(x0), p.x, record).dataSync()[0]);
      const [value, ...grads] = tf
        .tidy(() => broadStep(p, untie ? untied : LIVE))
        .map((t) => {
          const v = Float32Array.from(t.dataSync());
          t.dispose();
          return v;
        });
      assert.equal(value[0], recorded, 'the differentiated loss = the recorded pass');
      const same = Math.abs(broadLoss64(tensors(x0), p.x, frozen) - value[0]);
      assert.ok(same <= 1e-6 * Math.abs(value[0]), `frozen loss off by ${same}`);
      const rel = fdCheck((xs) => broadLoss64(tensors(xs), p.x, frozen), x0, grads, {
        coords: 0,
        directions: 2,
        eps: 0.1,
        seed: 77,
      });
      const line = BROAD_NAMES.map((k, i) => `${k} ${rel[i].toExponential(2)}`).join(', ');
      console.log(`[gradcheck] broad step on ${be}${untie ? ' (untied max)' : ''}: ${line}`);
      rel.forEach((r, i) => assert.ok(r <= 1e-3, `${BROAD_NAMES[i]} on ${be}: rel ${r}`));
    } finally {
      await tf.setBackend(prev);
    }
  }
  // The logits repeat in 2×2 blocks (nearest then bilinear upsampling), so the max of |logits|
  // is attained by 4 identical elements. tfjs' own Max gradient gave dy to each of them (4×);
  // the registered correction (lib/backend/kernels/corrected_grads.ts) splits it evenly, as
  // PyTorch's amax does. The four copies come from one logit and move together, so the max
  // moves at the rate of that logit, which is what the even split gives back to it.
  for (const be of ['wasm', 'cpu'] as const) {
    test(`gradients on ${be} match central differences (non-smooth pieces frozen)`, () =>
      broadGradCheck(be, true));
    test(`gradients on ${be} through Max at a 4-fold tie`, () => broadGradCheck(be, false));
  }
  test('Max / Min gradient at identical ties (minimal repro): d max(x, x)/dx = 1', async () => {
    for (const be of ['wasm', 'cpu'] as const) {
      const [gMax, gMin] = await runOn(be, () => [
        tf.grad((x: tf.Tensor) => tf.max(tf.stack([x, x])))(tf.scalar(0.5)),
        tf.grad((x: tf.Tensor) => tf.min(tf.stack([x, x])))(tf.scalar(0.5)),
      ]);
      assert.equal(gMax[0], 1, `max on ${be}`);
      assert.equal(gMin[0], 1, `min on ${be}`);
    }
  });
});
