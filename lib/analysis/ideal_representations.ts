/**
 * The paper's §3.2 "ideal class representation" analysis (Fig. 3). For one image
 * with decoder features E ∈ R^{N×C} (N pixels) and one-hot ground truth M ∈ R^{K×N}, the class
 * embeddings that reproduce M best in the least-squares sense are W* = M·(Eᵀ)†. The paper finds
 * that (i) W*·Eᵀ re-predicts the image almost perfectly (≈95 % mIoU on ADE20K), yet (ii) W* rows
 * of the same class differ strongly from image to image: a fixed per-pixel classifier cannot be
 * ideal for every image, which motivates Offset Learning.
 *
 * Numerics (float64, ml-matrix): with G = EᵀE (C×C), the Moore–Penrose identity
 * E† = G†·Eᵀ gives (Eᵀ)† = E·G† and W* = (M·E)·G†: one N×C×C product and a C×C solve instead
 * of an SVD of the N×C matrix. G† is applied as a Cholesky solve of G + εI with a tiny relative
 * ridge ε = 1e-9·max diag(G) (ml-matrix's SVD of a 256×256 matrix costs seconds; Cholesky
 * ~0.1 s). ε only changes directions whose singular value is below ~3e-5 of the largest — far
 * below the float32 precision the features are computed in — and a dead channel (a zero column
 * of E) gets a zero weight, as with the pseudo-inverse. `solveRepresentation` falls back to the
 * exact pseudo-inverse if the Cholesky factorisation fails.
 *
 * Choices the paper leaves open (the paper ships no script for it), made here:
 * - E is the decoder output before the classifier (the `align` ConvModule: the input of Offset
 *   Learning, or of the 1×1 classifier of a per-pixel model), at feature resolution;
 * - the ground truth is resampled to the feature grid by nearest neighbour;
 * - ignored pixels (255) are left out of both the solve and the score;
 * - M_pred = W*·Eᵀ is turned into labels by argmax over classes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CholeskyDecomposition, Matrix, pseudoInverse } from 'ml-matrix';
import type { OffSeg } from '../models/offseg.ts';
import type { SegDataset } from '../data/dataset.ts';
import { iterateTest } from '../data/loader.ts';
import type { TestPipelineConfig } from '../data/transforms/pipeline.ts';
import { IoUAccumulator, type IoUResult } from '../eval/iou_metric.ts';

export interface IdealSolution {
  /** W* (K×C): row k is the ideal representation of class k for this image (0 if absent). */
  W: Matrix;
  /** Pixels per class among the valid ones (classes with 0 pixels have a zero row). */
  counts: number[];
}

/** EᵀE (C×C) in float64, exploiting symmetry (the analysis's dominant cost). */
export function gram(E: Matrix): Matrix {
  const n = E.rows;
  const c = E.columns;
  const g = new Float64Array(c * c);
  for (let r = 0; r < n; r++) {
    const row = E.getRow(r);
    for (let i = 0; i < c; i++) {
      const v = row[i];
      if (v === 0) continue; // ReLU features are sparse
      const gi = i * c;
      for (let j = i; j < c; j++) g[gi + j] += v * row[j];
    }
  }
  const G = new Matrix(c, c);
  for (let i = 0; i < c; i++)
    for (let j = i; j < c; j++) {
      G.set(i, j, g[i * c + j]);
      G.set(j, i, g[i * c + j]);
    }
  return G;
}

/**
 * Least-squares X (K×C) with X·Eᵀ ≈ T, given B = T·E (K×C): X = B·(EᵀE)†, the minimum-norm
 * solution X = T·(Eᵀ)† (up to the tiny ridge described at the top of the file).
 */
export function solveFromProducts(G: Matrix, B: Matrix, ridge = 1e-9): Matrix {
  const c = G.rows;
  let maxDiag = 0;
  for (let i = 0; i < c; i++) maxDiag = Math.max(maxDiag, G.get(i, i));
  const eps = ridge * (maxDiag > 0 ? maxDiag : 1);
  const R = G.clone();
  for (let i = 0; i < c; i++) R.set(i, i, R.get(i, i) + eps);
  const ch = new CholeskyDecomposition(R);
  if (ch.isPositiveDefinite()) return ch.solve(B.transpose()).transpose(); // (C,C)⁻¹(C,K) → (K, C)
  return B.mmul(pseudoInverse(G)); // (K, C)·(C, C)
}

/** Least-squares X (K×C) with X·Eᵀ ≈ T (T: K×N): X = T·(Eᵀ)† = (T·E)·(EᵀE)†. */
export function solveRepresentation(E: Matrix, T: Matrix): Matrix {
  if (T.columns !== E.rows) throw new Error(`T has ${T.columns} columns, E has ${E.rows} rows`);
  return solveFromProducts(gram(E), T.mmul(E)); // B = T·E: (K, N)·(N, C) → (K, C)
}

/** Keep the rows of E whose label is not ignored; returns them and the labels. */
export function validPixels(
  E: Matrix,
  labels: ArrayLike<number>,
  ignoreIndex = 255,
): { E: Matrix; labels: Int32Array } {
  const keep: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignoreIndex) keep.push(i);
  return {
    E: E.selection(keep, [...Array(E.columns).keys()]),
    labels: Int32Array.from(keep, (i) => labels[i]),
  };
}

/** W* = M·(Eᵀ)† for one image: E (N×C) valid pixels only, labels (N) in 0..K−1. */
export function idealRepresentation(
  E: Matrix,
  labels: ArrayLike<number>,
  numClasses: number,
): IdealSolution {
  const n = labels.length;
  const c = E.columns;
  if (E.rows !== n) throw new Error(`E has ${E.rows} rows for ${n} labels`);
  // B = M·E for one-hot M: row k is the sum of the features of the pixels of class k (K, C).
  const B = Matrix.zeros(numClasses, c);
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < n; i++) {
    const k = labels[i];
    if (k < 0 || k >= numClasses) throw new Error(`label ${k} outside 0..${numClasses - 1}`);
    counts[k]++;
    const row = E.getRow(i);
    for (let j = 0; j < c; j++) B.set(k, j, B.get(k, j) + row[j]);
  }
  return { W: solveFromProducts(gram(E), B), counts };
}

/** argmax_k (W·Eᵀ)_{k,n} for every pixel n: the labels the representation re-predicts. */
export function reconstruct(W: Matrix, E: Matrix): Int32Array {
  const S = E.mmul(W.transpose()); // (N, K)
  const out = new Int32Array(S.rows);
  for (let i = 0; i < S.rows; i++) {
    let best = 0;
    for (let k = 1; k < S.columns; k++) if (S.get(i, k) > S.get(i, best)) best = k;
    out[i] = best;
  }
  return out;
}

/** Cosine similarity of every pair of vectors (rows). */
export function cosineSimilarity(rows: readonly ArrayLike<number>[]): number[][] {
  const norms = rows.map((r) => {
    let s = 0;
    for (let c = 0; c < r.length; c++) s += r[c] * r[c];
    return Math.sqrt(s);
  });
  return rows.map((a, i) =>
    rows.map((b, j) => {
      let dot = 0;
      for (let c = 0; c < a.length; c++) dot += a[c] * b[c];
      return norms[i] > 0 && norms[j] > 0 ? dot / (norms[i] * norms[j]) : 0;
    }),
  );
}

/** Mean of the off-diagonal entries of a square matrix. */
export function meanOffDiagonal(s: readonly number[][]): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++)
    for (let j = 0; j < s.length; j++)
      if (i !== j) {
        sum += s[i][j];
        n++;
      }
  return n ? sum / n : NaN;
}

/** Nearest-neighbour resampling of a label map (pixel centres) to the feature grid. */
export function resampleLabels(
  label: ArrayLike<number>,
  height: number,
  width: number,
  outH: number,
  outW: number,
): Int32Array {
  const out = new Int32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH));
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW));
      out[y * outW + x] = label[sy * width + sx];
    }
  }
  return out;
}

/**
 * Decoder features E of one normalised image x [1,H,W,3]: the head's `align` output, the input of
 * its classifier, as a float64 (N×C) matrix in row-major pixel order, with the grid size.
 */
export function decoderFeatures(
  model: OffSeg,
  x: tf.Tensor4D,
): { E: Matrix; h: number; w: number } {
  const f = tf.tidy(() => model.decodeHead.features(model.backbone.forward(x))); // [1, h, w, C]
  const [, h, w, c] = f.shape;
  const data = f.dataSync();
  f.dispose();
  const E = new Matrix(h * w, c);
  for (let i = 0; i < h * w; i++) for (let j = 0; j < c; j++) E.set(i, j, data[i * c + j]);
  return { E, h, w };
}

export interface IdealAnalysisOptions {
  /** Test pipeline (keep-ratio resize + normalisation) applied to every image. */
  pipeline: TestPipelineConfig;
  /** Analyse at most this many images of the split (0 or undefined = all). */
  limit?: number;
  /** Class ids whose W* rows are compared across images (Fig. 3: six classes). */
  classes: readonly number[];
  /** Images per class for the similarity matrices (Fig. 3: 10). */
  perClass: number;
  /** A class counts as present in an image with at least this many pixels on the feature grid. */
  minPixels: number;
}

export interface ClassSimilarity {
  classId: number;
  className: string;
  /** Dataset indices of the images whose W* rows are compared. */
  images: number[];
  /** Cosine similarity of the W* rows (images × images). */
  matrix: number[][];
  meanOffDiagonal: number;
}

export interface IdealAnalysis {
  /** mIoU etc. of argmax(W*·Eᵀ) against the ground truth on the feature grid, over the split. */
  reconstruction: IoUResult;
  similarity: ClassSimilarity[];
  numImages: number;
  /** Feature grid of the first image [h, w] and the channel count C. */
  featureSize: [number, number];
  channels: number;
}

/**
 * Run the paper's §3.2 analysis of `model` over a split: per image W* from the decoder features and the
 * ground truth, its reconstruction scored over the whole split, and the W* rows of the chosen
 * classes collected from the first `perClass` images that contain them (chosen from the ground
 * truth only, so every model is compared on the same images).
 */
export async function analyseIdealRepresentations(
  model: OffSeg,
  dataset: SegDataset,
  opts: IdealAnalysisOptions,
): Promise<IdealAnalysis> {
  model.eval();
  const K = model.numClasses;
  const acc = new IoUAccumulator({
    numClasses: K,
    classNames: [...dataset.classes],
    ignoreIndex: dataset.ignoreIndex,
  });
  const rows = new Map<number, { images: number[]; w: Float64Array[] }>(
    opts.classes.map((k) => [k, { images: [], w: [] }]),
  );
  let featureSize: [number, number] = [0, 0];
  let channels = 0;
  let n = 0;
  for await (const s of iterateTest(dataset, opts.pipeline, { limit: opts.limit || undefined })) {
    const x = tf.tensor4d(s.image, [1, s.height, s.width, 3]);
    const { E, h, w } = decoderFeatures(model, x);
    x.dispose();
    if (n === 0) {
      featureSize = [h, w];
      channels = E.columns;
    }
    const labels = resampleLabels(s.label, s.oriHeight, s.oriWidth, h, w);
    const v = validPixels(E, labels, dataset.ignoreIndex);
    n++;
    if (v.labels.length === 0) continue;
    const { W, counts } = idealRepresentation(v.E, v.labels, K);
    acc.update(reconstruct(W, v.E), v.labels);
    for (const [k, r] of rows) {
      if (counts[k] >= opts.minPixels && r.images.length < opts.perClass) {
        r.images.push(s.index);
        r.w.push(Float64Array.from(W.getRow(k)));
      }
    }
  }
  const similarity = [...rows].map(([k, r]) => {
    const matrix = cosineSimilarity(r.w);
    return {
      classId: k,
      className: dataset.classes[k],
      images: r.images,
      matrix,
      meanOffDiagonal: meanOffDiagonal(matrix),
    };
  });
  return { reconstruction: acc.compute(), similarity, numImages: n, featureSize, channels };
}
