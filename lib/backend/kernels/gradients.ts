/**
 * Load tfjs-core's gradient table. `@tensorflow/tfjs-core`'s Node bundle registers no gradient
 * functions (`tf.grads` fails with "gradient function not found for Sum"), and its ESM
 * `dist/register_all_gradients.js` cannot load in Node (directory imports). The union package
 * `@tensorflow/tfjs` (a dependency) registers them into the shared global registry on import,
 * costing ~0.5 s once; it registers no extra backend in Node (webgl needs a browser).
 * Anything that trains must import this module (or `@tensorflow/tfjs`) once.
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';

/** True when the core gradients are registered (always, once this module is loaded). */
export function gradientsRegistered(): boolean {
  return tf.getGradient('Sum') !== undefined && tf.getGradient('Conv2D') !== undefined;
}
