/**
 * ONNX Runtime sessions over our exported segmentors (lib/export/onnx.ts).
 *
 * `onnxruntime-node` ships its CPU library for Linux/macOS/Windows inside the npm package. On a
 * machine with CUDA 12 its CUDA execution provider is installed with
 * `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` (the project's .npmrc skips that download by default)
 * and chosen with `executionProviders: ['cuda', 'cpu']` (CLI: `--ep cuda`).
 *
 * Files are checked before a session is made: an ONNX file that does not parse is reported as
 * corrupt, one without our metadata (model, classes, output stride, size divisor) as foreign.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { OnnxModelError, readOnnxMeta, type OnnxModelMeta } from '../export/onnx_meta.ts';

export { OnnxModelError, readOnnxMeta, type OnnxModelMeta };

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

export interface SessionOptions {
  /** Intra-op threads (default: the number of cores). */
  threads?: number;
  /** Execution providers in order of preference (default ['cpu']). */
  executionProviders?: readonly ExecutionProvider[];
  /** Write ONNX Runtime's own profile (JSON) with this file prefix. */
  profilePrefix?: string;
}

let ortModule: typeof Ort | undefined;
let ortFailure: string | undefined;

/** onnxruntime-node, or undefined with the reason (`ortUnavailable()`) when it does not load. */
export async function loadOrt(): Promise<typeof Ort | undefined> {
  if (ortModule || ortFailure) return ortModule;
  try {
    ortModule = (await import('onnxruntime-node')) as typeof Ort;
  } catch (e) {
    ortFailure = (e as Error).message.split('\n')[0];
  }
  return ortModule;
}

/** Why onnxruntime-node failed to load (after `loadOrt`), if it did. */
export function ortUnavailable(): string | undefined {
  return ortFailure;
}

/** An ONNX Runtime session over one exported segmentor. */
export class OrtSegmentor {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly meta: OnnxModelMeta,
  ) {}

  /**
   * Open an exported model (a path or its bytes).
   * @throws OnnxModelError for a corrupt or foreign file, or when onnxruntime-node is missing or
   *   rejects the model.
   */
  static async create(
    model: string | Uint8Array,
    opts: SessionOptions = {},
  ): Promise<OrtSegmentor> {
    const source = typeof model === 'string' ? model : 'the exported model';
    let bytes: Uint8Array;
    try {
      bytes = typeof model === 'string' ? readFileSync(model) : model;
    } catch (e) {
      throw new OnnxModelError(`cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    const meta = readOnnxMeta(bytes, source);
    const ort = await loadOrt();
    if (!ort) throw new OnnxModelError(`onnxruntime-node is not available (${ortUnavailable()})`);
    const options: Ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: opts.threads ?? os.availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: [...(opts.executionProviders ?? ['cpu'])],
      ...(opts.profilePrefix
        ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix }
        : {}),
    };
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, options);
    } catch (e) {
      throw new OnnxModelError(
        `ONNX Runtime cannot load ${source}: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    return new OrtSegmentor(ort, session, meta);
  }

  /** Does the model accept an input of H×W (fixed sizes must match; dynamic ones be multiples)? */
  accepts(h: number, w: number): boolean {
    const [, , ih, iw] = this.meta.input.shape;
    const ok = (d: number | string, v: number): boolean =>
      typeof d === 'number' ? d === v : v % this.meta.sizeDivisor === 0;
    return ok(ih, h) && ok(iw, w);
  }

  /**
   * Logits for a normalised NCHW image batch.
   * @param x float32 [B, 3, H, W], row-major
   * @returns float32 [B, K, H/s, W/s] and its dims
   * @throws OnnxModelError when the size does not fit the exported model.
   */
  async run(
    x: Float32Array,
    dims: readonly [number, number, number, number],
  ): Promise<{ data: Float32Array; dims: number[] }> {
    const [b, c, h, w] = dims;
    const [ib] = this.meta.input.shape;
    if (c !== 3 || (typeof ib === 'number' && ib !== b) || !this.accepts(h, w)) {
      throw new OnnxModelError(
        `${this.meta.model}.onnx takes [${this.meta.input.shape}], got [${dims}]` +
          (typeof this.meta.input.shape[2] === 'number'
            ? ' (export with --dynamic for other sizes)'
            : ''),
      );
    }
    const feeds = { [this.meta.input.name]: new this.ort.Tensor('float32', x, [...dims]) };
    const out = await this.session.run(feeds);
    const y = out[this.meta.output.name] as Ort.Tensor;
    return { data: y.data as Float32Array, dims: [...y.dims] };
  }

  /** Stop profiling (writes the profile file) when it was enabled. */
  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
