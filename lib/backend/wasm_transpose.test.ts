/**
 * The heap Transpose on WASM (lib/backend/kernels/transpose.ts) against the CPU backend: exact
 * for every permutation of ranks 1–5, size-1 dims, int32 and bool, plus the shapes OffSeg-T
 * transposes in training; and the dim-collapsing plan.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../models/core/init.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';
import { collapse } from './kernels/transpose.ts';
import { expectBackendsAgree, randomArray } from './kernels/testing.ts';

await useBackend('wasm');

const rng = new Rng(5);

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  }
  return out;
}

describe('Transpose (replaced)', () => {
  test('is registered as a replacement', () => {
    assert.ok(registerWasmTrainingKernels().replaced.includes('Transpose'));
  });

  test('collapse drops size-1 dims and merges adjacent ones', () => {
    assert.deepEqual(collapse([2, 3, 4], [0, 1, 2]), { shape: [24], perm: [0] });
    assert.deepEqual(collapse([2, 3, 4], [2, 0, 1]), { shape: [6, 4], perm: [1, 0] });
    assert.deepEqual(collapse([2, 1, 3, 4], [1, 3, 0, 2]), { shape: [6, 4], perm: [1, 0] });
    assert.deepEqual(collapse([2, 3, 4], [1, 0, 2]), { shape: [2, 3, 4], perm: [1, 0, 2] });
    assert.deepEqual(collapse([8, 16, 16, 32, 32], [1, 3, 0, 2, 4]), {
      shape: [8, 16, 16, 32, 32],
      perm: [1, 3, 0, 2, 4],
    });
    assert.deepEqual(collapse([1, 1], [1, 0]), { shape: [], perm: [] });
  });

  test('every permutation of ranks 1–5 (odd sizes, float) is exact', async () => {
    const shapes = [[7], [5, 37], [3, 5, 40], [2, 3, 4, 35], [2, 3, 1, 4, 33]];
    for (const shape of shapes) {
      const v = randomArray(rng, shape);
      await expectBackendsAgree(
        `rank ${shape.length}`,
        () => permutations(shape.length).map((p) => tf.transpose(tf.tensor(v, shape), p)),
        0,
      );
    }
  });

  test('int32 and bool, size-1 and empty dims', async () => {
    const vi = Int32Array.from(randomArray(rng, [4, 1, 6, 5], 100), Math.round);
    const vb = Uint8Array.from(randomArray(rng, [3, 70], 1), (x) => (x > 0 ? 1 : 0));
    await expectBackendsAgree(
      'int/bool',
      () => [
        tf.transpose(tf.tensor(vi, [4, 1, 6, 5], 'int32'), [3, 1, 0, 2]),
        tf.transpose(tf.tensor(vi, [4, 1, 6, 5], 'int32'), [1, 0, 2, 3]),
        tf.cast(tf.transpose(tf.tensor(vb, [3, 70], 'bool'), [1, 0]), 'float32'),
        tf.transpose(tf.zeros([2, 0, 3]), [2, 0, 1]),
        tf.transpose(tf.scalar(3), []),
      ],
      0,
    );
  });

  test('the shapes of an OffSeg-T training step', async () => {
    const cases: [number[], number[]][] = [
      [
        [8, 16, 16, 16, 16],
        [1, 3, 0, 2, 4],
      ],
      [
        [16, 16, 8, 16, 16],
        [2, 0, 3, 1, 4],
      ],
      [
        [300, 256],
        [1, 0],
      ],
      [
        [8, 256, 64],
        [0, 2, 1],
      ],
      [
        [4, 34, 34, 64],
        [3, 0, 1, 2],
      ],
      [
        [4, 8, 2, 8, 2, 12],
        [0, 1, 3, 2, 4, 5],
      ],
    ];
    for (const [shape, perm] of cases) {
      const v = randomArray(rng, shape);
      await expectBackendsAgree(
        `[${shape}] perm ${perm}`,
        () => [tf.transpose(tf.tensor(v, shape), perm)],
        0,
      );
    }
  });
});
