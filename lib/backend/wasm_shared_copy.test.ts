/**
 * Identity and same-dtype Cast on WASM share their input's buffer (./kernels/shared_copy.ts):
 * the values are the input's, element for element; the buffer outlives whichever of the two
 * tensors is disposed first and is freed with the last one; casts that change the dtype still
 * convert (checked against values written by hand), and strings still clone.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useBackend } from '../../test/helpers/parity.ts';
import { registerWasmTrainingKernels } from './wasm_kernels.ts';

await useBackend('wasm');
const kernels = registerWasmTrainingKernels();

describe('Identity and Cast share the buffer', () => {
  test('both are replaced', () => {
    assert.ok(kernels.replaced.includes('Identity'));
    assert.ok(kernels.replaced.includes('Cast'));
  });

  for (const [name, copy] of [
    ['clone', (t: tf.Tensor) => tf.clone(t)],
    ['cast float32 → float32', (t: tf.Tensor) => tf.cast(t, 'float32')],
  ] as const) {
    test(`${name}: same values, no new buffer, either tensor may go first`, () => {
      const vals = [1.5, -2.25, 3, 0, 7.125, -0.5];
      for (const disposeFirst of ['source', 'copy'] as const) {
        const buffers0 = tf.memory().numDataBuffers;
        const x = tf.tensor2d(vals, [2, 3]);
        const y = copy(x);
        assert.notEqual(y, x);
        assert.deepEqual(y.shape, [2, 3]);
        assert.equal(y.dtype, 'float32');
        assert.equal(tf.memory().numDataBuffers - buffers0, 1, 'one buffer for both tensors');
        (disposeFirst === 'source' ? x : y).dispose();
        const kept = disposeFirst === 'source' ? y : x;
        assert.deepEqual([...kept.dataSync()], vals);
        // A kernel reading the survivor sees the shared data.
        const z = tf.add(kept, 1);
        assert.deepEqual(
          [...z.dataSync()],
          vals.map((v) => v + 1),
        );
        z.dispose();
        kept.dispose();
        assert.equal(tf.memory().numDataBuffers, buffers0, 'freed with the last tensor');
      }
    });
  }

  test('the tape clones are shared: a gradient still sees the saved inputs', () => {
    // d/dx Σ (x·x) = 2x, read through the clones tfjs saves for Multiply's gradient.
    const x = tf.tensor1d([0.5, -1, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(t, t)))(x);
    assert.deepEqual([...g.dataSync()], [1, -2, 4]);
    tf.dispose([x, g]);
  });

  test('dtype-changing casts still convert', () => {
    const x = tf.tensor1d([1.75, -2.5, 0, 3.25]);
    const i = tf.cast(x, 'int32');
    assert.deepEqual([...i.dataSync()], [1, -2, 0, 3]);
    const f = tf.cast(tf.tensor1d([3, -4], 'int32'), 'float32');
    assert.equal(f.dtype, 'float32');
    assert.deepEqual([...f.dataSync()], [3, -4]);
    tf.dispose([x, i, f]);
  });

  test('strings still clone', () => {
    const s = tf.tensor1d(['a', 'bc']);
    const c = tf.clone(s);
    s.dispose();
    assert.deepEqual(c.dataSync(), ['a', 'bc']);
    c.dispose();
  });
});
