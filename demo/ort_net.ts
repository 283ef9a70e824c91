/**
 * ONNX Runtime Web as the host recipe's network (lib/eval/segment.ts `LogitsNet`): WebGPU when
 * the browser has an adapter, else WebAssembly (SIMD, threads when the page is cross-origin
 * isolated, which ./serve.ts arranges). The exported model's interface (lib/export/onnx.ts):
 * `input` float32 [1, 3, H, W] normalised, `logits` float32 [1, K, H/s, W/s]; the page works in
 * NHWC, so both ends are transposed here.
 */
import * as ort from 'onnxruntime-web';
import type { HostLogits } from '../lib/eval/host_resize.ts';
import type { HostImage, LogitsNet } from '../lib/eval/segment.ts';

export type ExecutionBackend = 'webgpu' | 'wasm';

export interface OrtModel {
  session: ort.InferenceSession;
  backend: ExecutionBackend;
  /** e.g. `webgpu` or `wasm (SIMD, 2 threads)`. */
  describe: string;
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown> };
}

async function hasWebGpu(): Promise<boolean> {
  const gpu = (navigator as unknown as GpuNavigator).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/**
 * A session over the model's bytes: WebGPU if available (and `prefer` allows), else WASM.
 * @param wasmBase URL of the folder holding ONNX Runtime's .wasm file
 */
export async function openSession(
  bytes: Uint8Array,
  wasmBase: string,
  prefer: ExecutionBackend | 'auto' = 'auto',
): Promise<OrtModel> {
  ort.env.wasm.wasmPaths = wasmBase;
  const threads = globalThis.crossOriginIsolated
    ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1))
    : 1;
  ort.env.wasm.numThreads = threads;
  if (prefer !== 'wasm' && (await hasWebGpu())) {
    try {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] });
      return { session, backend: 'webgpu', describe: 'WebGPU' };
    } catch (e) {
      console.warn('WebGPU session failed, using WebAssembly:', e);
    }
  }
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  return {
    session,
    backend: 'wasm',
    describe: `WebAssembly (SIMD, ${threads} thread${threads > 1 ? 's' : ''})`,
  };
}

/** Milliseconds spent inside `session.run`, summed over the windows of one photo. */
export interface NetTiming {
  ms: number;
}

/** The session as a `LogitsNet`; `timing.ms` accumulates the time spent in ONNX Runtime. */
export function ortNet(
  m: OrtModel,
  info: { numClasses: number; sizeDivisor: number },
  timing: NetTiming,
): LogitsNet {
  const inputName = m.session.inputNames[0];
  const outputName = m.session.outputNames[0];
  return {
    numClasses: info.numClasses,
    sizeDivisor: info.sizeDivisor,
    async logits(x: HostImage): Promise<HostLogits> {
      const { height: h, width: w } = x;
      const nchw = new Float32Array(3 * h * w);
      for (let p = 0; p < h * w; p++) {
        nchw[p] = x.data[3 * p]; // NHWC → NCHW
        nchw[h * w + p] = x.data[3 * p + 1];
        nchw[2 * h * w + p] = x.data[3 * p + 2];
      }
      const t0 = performance.now();
      const out = await m.session.run({
        [inputName]: new ort.Tensor('float32', nchw, [1, 3, h, w]),
      });
      const y = out[outputName];
      const data = (await y.getData()) as Float32Array;
      timing.ms += performance.now() - t0;
      const [, k, oh, ow] = y.dims;
      y.dispose();
      const nhwc = new Float32Array(data.length);
      for (let c = 0; c < k; c++) {
        const plane = c * oh * ow;
        for (let p = 0; p < oh * ow; p++) nhwc[p * k + c] = data[plane + p]; // NCHW → NHWC
      }
      return { data: nhwc, height: oh, width: ow, channels: k };
    },
  };
}
