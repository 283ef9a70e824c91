/**
 * A backend on first use: createModel works in a process where nothing chose a backend (it
 * starts cpu and says so once), and a later ensureBackend() still makes the real choice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../models/registry.ts';
import { ensureBackend, ensureBackendSync } from './ensure.ts';
import { currentBackend } from './select.ts';

test('createModel before any backend choice: cpu, one note, then ensureBackend chooses', async () => {
  assert.equal(tf.getBackend(), undefined, 'this file must run in its own process');
  const notes: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (notes.push(String(s)), true)) as typeof write;
  try {
    const m = createModel('offseg-t', { numClasses: 3 });
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(ensureBackendSync('again'), 'cpu');
    m.eval();
    const shape = tf.tidy(() => m.forward(tf.zeros([1, 32, 32, 3])).shape);
    assert.deepEqual(shape, [1, 8, 8, 3]);
    m.dispose();
  } finally {
    process.stderr.write = write;
  }
  assert.equal(notes.length, 1);
  assert.match(notes[0], /createModel: no backend chosen yet.*selectBackend/);
  assert.equal(currentBackend(), undefined, 'the fallback does not count as a choice');
  process.env.OFFSEG_BACKEND = 'cpu';
  const b = await ensureBackend();
  assert.equal(b.name, 'cpu');
  assert.equal(await ensureBackend(), b);
});
