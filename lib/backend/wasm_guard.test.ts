import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { switchBackend } from '../../test/helpers/backends.ts';
import { guardWasmHeap, WasmHeapExhausted } from './wasm_guard.ts';

await switchBackend('wasm');

test('a tensor the wasm32 heap cannot hold is refused with its shape, size and the limit', () => {
  assert.equal(guardWasmHeap(), true);
  assert.equal(guardWasmHeap(), true); // a second install is a no-op
  // 150-class logits of a 2900×2200 and a 4032×3024 photo: 3.57 and 6.81 GiB
  for (const [shape, size] of [
    [[1, 2200, 2900, 150], '3.57'],
    [[1, 3024, 4032, 150], '6.81'],
  ] as const) {
    assert.throws(
      () => tf.fill([...shape], 0), // the Fill kernel: nothing allocated on the JS side
      (e: Error) =>
        e instanceof WasmHeapExhausted &&
        e.message.includes(`float32 tensor [${shape.join(', ')}] needs ${size} GiB`) &&
        e.message.includes('wasm32 limit of 4 GiB'),
    );
  }
  // what fits still works, and the backend is intact after a refusal
  const before = tf.memory().numTensors;
  const x = tf.ones([64, 1024, 1024]); // 256 MiB
  assert.equal(
    tf.tidy(() => tf.sum(tf.slice(x, [63, 1023, 1000], [1, 1, 24])).dataSync()[0]),
    24,
  );
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});
