/**
 * Child-process probe for lib/backend/wasm.test.ts: sets up the WASM backend with the options
 * given as JSON in argv[2], runs a matrix product, prints one JSON line, and then simply
 * returns — the process must exit on its own (pthread workers must not hold it open).
 */
import * as tf from '@tensorflow/tfjs-core';
import { setupWasm, type WasmOptions } from '../wasm.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as WasmOptions;
const setup = await setupWasm(opts);
const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
const c = tf.matMul(a, a);
const ok = Array.from(c.dataSync()).join(',') === '7,10,15,22';
process.stdout.write(JSON.stringify({ ...setup, backend: tf.getBackend(), ok }) + '\n');
