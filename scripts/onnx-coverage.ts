/**
 * `npx tsx scripts/onnx-coverage.ts [--models a,b] [--out results/onnx/coverage.md]`: export
 * every registered model (random weights, K = 19) to ONNX at a fixed 64×96 and with dynamic
 * H×W, run both in ONNX Runtime and compare with the tfjs logits (fixed at 64×96, dynamic at
 * 64×96 and 96×160), max|Δ|/max|logit| against the 1e-4 limit of the tests. Writes a Markdown
 * table (one row per model: nodes, file size, the three relative errors, pass or the error).
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import { selectBackend } from '../lib/backend/select.ts';
import { createModel, listModels } from '../lib/models/registry.ts';
import type { Segmentor } from '../lib/models/segmentor.ts';
import { exportOnnx } from '../lib/export/onnx.ts';
import { OrtSegmentor } from '../lib/engine/onnxruntime.ts';

const LIMIT = 1e-4;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function rel(model: Segmentor, ort: OrtSegmentor, h: number, w: number): Promise<number> {
  const x = tf.randomUniform([1, h, w, 3], -2, 2, 'float32', 5) as tf.Tensor4D;
  const ref = tf.tidy(() => tf.transpose(model.eval().forward(x), [0, 3, 1, 2]));
  const xn = tf.transpose(x, [0, 3, 1, 2]);
  const out = await ort.run(xn.dataSync() as Float32Array, [1, 3, h, w]);
  const r = ref.dataSync();
  let d = 0;
  let m = 0;
  for (let i = 0; i < r.length; i++) {
    d = Math.max(d, Math.abs(out.data[i] - r[i]));
    m = Math.max(m, Math.abs(r[i]));
  }
  tf.dispose([x, ref, xn]);
  return d / m;
}

const e = (v: number): string => v.toExponential(1);

async function main(): Promise<void> {
  await selectBackend({ prefer: 'auto', log: true });
  const models = arg('--models')?.split(',') ?? listModels();
  const out = arg('--out') ?? 'results/onnx/coverage.md';
  const rows: string[] = [];
  let failures = 0;
  for (const name of models) {
    const t0 = performance.now();
    const model = createModel(name, { numClasses: 19 });
    let row: string;
    try {
      const fixed = await exportOnnx(model, { modelName: name, size: [64, 96] });
      const s1 = await OrtSegmentor.create(fixed.bytes, { threads: 2 });
      const rFixed = await rel(model, s1, 64, 96);
      await s1.release();
      const dyn = await exportOnnx(model, { modelName: name, dynamic: true });
      const s2 = await OrtSegmentor.create(dyn.bytes, { threads: 2 });
      const rA = await rel(model, s2, 64, 96);
      const rB = await rel(model, s2, 96, 160);
      await s2.release();
      const ok = Math.max(rFixed, rA, rB) <= LIMIT;
      if (!ok) failures++;
      row =
        `| ${name} | ${fixed.nodes} / ${dyn.nodes} | ${(fixed.bytes.length / 1e6).toFixed(1)} | ` +
        `${e(rFixed)} | ${e(rA)} | ${e(rB)} | ${ok ? 'pass' : 'FAIL'} |`;
    } catch (err) {
      failures++;
      row = `| ${name} | – | – | – | – | – | error: ${(err as Error).message.split('\n')[0]} |`;
    }
    model.dispose();
    rows.push(row);
    process.stderr.write(`${row}  [${((performance.now() - t0) / 1000).toFixed(0)} s]\n`);
  }
  const md = [
    '# ONNX export coverage',
    '',
    `${new Date().toISOString()}; ${os.availableParallelism()} cores, load average ` +
      `${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}. Random weights, K = 19. ` +
      `max|Δ|/max|logit| of ONNX Runtime vs tfjs; limit ${LIMIT}.`,
    '',
    '| model | nodes (fixed / dynamic) | MB | fixed 64×96 | dynamic 64×96 | dynamic 96×160 | result |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  process.stderr.write(`wrote ${out}: ${models.length - failures}/${models.length} pass\n`);
  process.exitCode = failures ? 1 : 0;
}

await main();
