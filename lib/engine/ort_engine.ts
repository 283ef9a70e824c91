/**
 * The ONNX Runtime inference engine (./engine.ts), over an exported file or over a model that it
 * exports on first use: once with symbolic H×W (`shapes: 'dynamic'`, for inputs of varying size)
 * or once per input size (`'per-size'`: one recording each; used when a single size is run, and as
 * the fallback for a model whose computation a symbolic-size graph cannot express).
 */
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import type { Segmentor } from '../models/segmentor.ts';
import { exportOnnx } from '../export/onnx.ts';
import { DynamicShapeError } from '../export/dynamic.ts';
import type { EngineName, SegmentationEngine } from './engine.ts';
import {
  loadOrt,
  OnnxModelError,
  OrtSegmentor,
  ortUnavailable,
  type SessionOptions,
} from './onnxruntime.ts';

export interface OrtEngineOptions extends SessionOptions {
  /** One export for every size (default) or one per input size. */
  shapes?: 'dynamic' | 'per-size';
  /** Told about each export (what and how long), e.g. to print it. */
  onExport?: (message: string) => void;
}

/** ONNX Runtime over an exported file or over a model exported on demand. */
export class OrtEngine implements SegmentationEngine {
  readonly name = 'onnxruntime';
  private readonly sessions = new Map<string, OrtSegmentor>();
  private dynamic?: OrtSegmentor;
  private mode: 'dynamic' | 'per-size';

  private constructor(
    private readonly source: { model: Segmentor; modelName: string } | { file: OrtSegmentor },
    readonly numClasses: number,
    readonly outputStride: number,
    readonly sizeDivisor: number,
    private readonly opts: OrtEngineOptions,
  ) {
    this.mode = opts.shapes ?? 'dynamic';
  }

  /** An engine exporting `model` (its current weights) when it first needs a session. */
  static fromModel(model: Segmentor, modelName: string, opts: OrtEngineOptions = {}): OrtEngine {
    return new OrtEngine(
      { model, modelName },
      model.numClasses,
      model.outputStride,
      model.sizeDivisor,
      opts,
    );
  }

  /**
   * An engine over an exported `.onnx`.
   * @throws OnnxModelError for a file that is missing, corrupt or not one of our exports.
   */
  static async fromFile(path: string, opts: OrtEngineOptions = {}): Promise<OrtEngine> {
    const s = await OrtSegmentor.create(path, opts);
    const m = s.meta;
    return new OrtEngine({ file: s }, m.numClasses, m.outputStride, m.sizeDivisor, opts);
  }

  private async session(h: number, w: number, batch: number): Promise<OrtSegmentor> {
    if ('file' in this.source) return this.source.file;
    const { model, modelName } = this.source;
    if (this.mode === 'dynamic') {
      if (this.dynamic) return this.dynamic;
      try {
        this.dynamic = await this.exported(
          model,
          modelName,
          { dynamic: true, batch },
          'dynamic H×W',
        );
        return this.dynamic;
      } catch (e) {
        if (!(e instanceof DynamicShapeError)) throw e;
        this.opts.onExport?.(`${e.message}; exporting per input size instead`);
        this.mode = 'per-size';
      }
    }
    const key = `${batch}x${h}x${w}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = await this.exported(model, modelName, { size: [h, w], batch }, `${h}×${w}`);
      this.sessions.set(key, s);
    }
    return s;
  }

  private async exported(
    model: Segmentor,
    modelName: string,
    shape: { size?: [number, number]; dynamic?: boolean; batch: number },
    what: string,
  ): Promise<OrtSegmentor> {
    const t0 = performance.now();
    const r = await exportOnnx(model, { modelName, ...shape });
    const s = await OrtSegmentor.create(r.bytes, this.opts);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    this.opts.onExport?.(
      `exported ${modelName} to ONNX at ${what} (${r.nodes} nodes) in ${secs} s`,
    );
    return s;
  }

  async logits(x: tf.Tensor4D): Promise<tf.Tensor4D> {
    const [b, h, w] = x.shape;
    const s = await this.session(h, w, b);
    const nchw = tf.transpose(x, [0, 3, 1, 2]);
    const data = (await nchw.data()) as Float32Array;
    nchw.dispose();
    const out = await s.run(data, [b, 3, h, w]);
    const [ob, k, oh, ow] = out.dims;
    return tf.tidy(() => tf.transpose(tf.tensor4d(out.data, [ob, k, oh, ow]), [0, 2, 3, 1])); // NCHW → NHWC
  }

  describe(): string {
    const eps = (this.opts.executionProviders ?? ['cpu']).join('+');
    const threads = this.opts.threads ?? os.availableParallelism();
    return `onnxruntime (${eps}, ${threads} threads)`;
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values(), ...(this.dynamic ? [this.dynamic] : [])];
    if ('file' in this.source) all.push(this.source.file);
    for (const s of all) await s.release();
    this.sessions.clear();
    this.dynamic = undefined;
  }
}

/**
 * The engine to use: `auto` is the fastest available — ONNX Runtime when onnxruntime-node loads,
 * else tfjs. Returns the choice and, when ONNX Runtime was wanted but is missing, why.
 * @throws OnnxModelError when `onnxruntime` is asked for explicitly and cannot load.
 */
export async function chooseEngine(
  pref: EngineName | 'auto',
): Promise<{ name: EngineName; note?: string }> {
  if (pref === 'tfjs') return { name: 'tfjs' };
  const ort = await loadOrt();
  if (ort) return { name: 'onnxruntime' };
  const why = `onnxruntime-node is not available (${ortUnavailable()})`;
  if (pref === 'onnxruntime') throw new OnnxModelError(why);
  return { name: 'tfjs', note: why };
}
