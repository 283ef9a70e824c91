/**
 * `MaxPoolGrad` for WASM, written against the heap (docs/backends.md).
 *
 * The stock WASM kernel returned wrong gradients in our checks (e.g. a 2×2/2 pool on
 * [1,8,8,1]: max |Δ| ≈ 1 against a hand-computed reference, while [1,8,8,16] matched), so it
 * is replaced. Semantics as the CPU kernel and TF: each window routes its dy to the first
 * maximum in row-major window order; padded positions never win.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { attr, type PadAttr } from './common.ts';
import { byteOffset, internals } from './heap.ts';

const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attr<number | [number, number]>(attrs, 'filterSize'),
    attr<number | [number, number]>(attrs, 'strides'),
    1,
    attr<PadAttr>(attrs, 'pad'),
    attr<'floor' | 'round' | 'ceil' | undefined>(attrs, 'dimRoundingMode'),
  );
  const b = internals(backend);
  const out = b.makeOutput(input.shape, 'float32');
  const buf = b.wasm.HEAPU8.buffer;
  const n = input.shape.reduce((p, q) => p * q, 1);
  const x = new Float32Array(buf, byteOffset(b, input), n);
  const g = new Float32Array(
    buf,
    byteOffset(b, dy),
    dy.shape.reduce((p, q) => p * q, 1),
  );
  const dx = new Float32Array(buf, byteOffset(b, out), n).fill(0);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const best = new Float32Array(C);
  const arg = new Int32Array(C);
  for (let bi = 0; bi < batchSize; bi++) {
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * sh - info.padInfo.top;
      for (let ox = 0; ox < OW; ox++) {
        const x0 = ox * sw - info.padInfo.left;
        best.fill(-Infinity);
        arg.fill(-1);
        for (let ky = 0; ky < fh; ky += dh) {
          const y = y0 + ky;
          if (y < 0 || y >= H) continue;
          for (let kx = 0; kx < fw; kx += dw) {
            const xx = x0 + kx;
            if (xx < 0 || xx >= W) continue;
            const base = ((bi * H + y) * W + xx) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c] || arg[c] < 0) {
                best[c] = v;
                arg[c] = base + c;
              }
            }
          }
        }
        const go = ((bi * OH + oy) * OW + ox) * C;
        for (let c = 0; c < C; c++) if (arg[c] >= 0) dx[arg[c]] += g[go + c];
      }
    }
  }
  return out;
};

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};
