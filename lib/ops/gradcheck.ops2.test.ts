/**
 * Op-level gradient sweep, part 2: our own ops (lib/ops/*: conv with every stride / padding /
 * dilation / depthwise configuration the models build, fused bias and activation, pooling,
 * norms in train mode, GELU, resizes and their adjoints, bicubic, CARAFE, grid sampling,
 * pixel shuffle) and the training loss, on cpu and on wasm, each against central differences
 * of its forward (test/helpers/gradcheck.ts). Then the coverage test: the kernels of a real
 * train-mode forward + loss of four model families must all be checked by some case of the
 * two tables, so a model that starts using a new kernel fails here until its gradient is
 * checked. Part 1 (tfjs kernels, harness mutation tests) is ./gradcheck.ops.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { switchBackend, TEST_BACKENDS } from '../../test/helpers/backends.ts';
import { labels, LIB_CASES } from '../../test/helpers/lib_op_cases.ts';
import { declaredKernels, normal, sweep, TFJS_CASES } from '../../test/helpers/op_cases.ts';
import { REPO_ROOT } from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import { segCrossEntropy } from '../train/loss.ts';

// Start wasm first: its setup also registers backend-agnostic gradients (dilated conv, …)
// that the cpu runs then use (docs/gradients.md: a cpu-only process lacks them).
await switchBackend('wasm');

type T4 = tf.Tensor4D;

sweep('lib op gradients', LIB_CASES);

// ---------------------------------------------------------------------------------------------
// Coverage

/** Profile names that are not kernels: tf.customGrad forwards named by the enclosing scope. */
const LIB_CUSTOM_GRAD_SCOPES: Record<string, string> = {
  '': 'tf.customGrad outside any scope: segCrossEntropy (checked above)',
  'unnamed scope': 'tf.customGrad inside tf.tidy: gridSample row gather (checked above)',
};
/** Every tf.customGrad in lib, and where its gradient is checked. */
const LIB_CUSTOM_GRADS: Record<string, string> = {
  'lib/train/loss.ts': 'segCrossEntropy cases above',
  'lib/ops/grid_sample.ts': 'gridSample case above',
  'lib/models/core/grad_checkpoint.ts':
    'recomputation, not a new derivative: equal to plain autodiff (grad_checkpoint.test.ts); off by default',
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return n.endsWith('.ts') && !n.endsWith('.test.ts') ? [p] : [];
  });
}

/** Models traced, with the input size per backend (cpu traces are ~3× slower). */
const TRACED = ['offseg-t', 'offseg-t-conv-pp', 'segformer-b0-ol', 'segnext-t-ol'];
const TRACE_SIZE = { cpu: [32, 64], wasm: [64, 96] } as const;

describe('kernel coverage of real training steps', () => {
  for (const be of TEST_BACKENDS) {
    test(`every kernel of a train-mode forward + loss on ${be} is checked`, async () => {
      await switchBackend(be);
      const checked = new Set([
        ...declaredKernels(TFJS_CASES, be),
        ...declaredKernels(LIB_CASES, be),
      ]);
      const [h, w] = TRACE_SIZE[be];
      const unchecked: string[] = [];
      for (const name of TRACED) {
        const model = createModel(name, { numClasses: 5, seed: 1 });
        model.train();
        const x = normal([2, h, w, 3], 7) as T4;
        const y = labels([2, h, w], 5, 8);
        const prof = await tf.profile(() => tf.tidy(() => segCrossEntropy(model.forward(x), y)));
        tf.dispose([x, y, prof.result as tf.Tensor]);
        model.dispose();
        const names = [...new Set(prof.kernelNames)].sort();
        console.log(`[coverage] ${be} ${name}: ${names.map((n) => n || "''").join(' ')}`);
        for (const k of names) {
          if (!checked.has(k) && !(k in LIB_CUSTOM_GRAD_SCOPES)) unchecked.push(`${name}: ${k}`);
        }
      }
      assert.deepEqual(unchecked, [], `kernels without a gradient check on ${be}`);
    });
  }
  test('every tf.customGrad in lib is known and checked', () => {
    const found = tsFiles(join(REPO_ROOT, 'lib'))
      .filter((p) => readFileSync(p, 'utf8').includes('tf.customGrad('))
      .map((p) => relative(REPO_ROOT, p))
      .sort();
    assert.deepEqual(found, Object.keys(LIB_CUSTOM_GRADS).sort());
  });
});
