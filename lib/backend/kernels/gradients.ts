/**
 * Load tfjs-core's gradient table, with our corrections. `@tensorflow/tfjs-core`'s Node bundle
 * registers no gradient functions (`tf.grads` fails with "gradient function not found for Sum"),
 * and its ESM `dist/register_all_gradients.js` cannot load in Node (directory imports). The
 * union package `@tensorflow/tfjs` (a dependency) registers them into the shared global registry
 * on import, costing ~0.5 s once; it registers no extra backend in Node (webgl needs a browser).
 * Some of tfjs' gradients are wrong (bilinear resize with half-pixel centres, Max/Min at ties,
 * Cast to integers, padded average pooling): ./corrected_grads.ts replaces or guards them right
 * after the table loads (docs/gradients.md).
 * Anything that trains must import this module (not `@tensorflow/tfjs` alone) once.
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { correctedGradientsInstalled, registerCorrectedGradients } from './corrected_grads.ts';

registerCorrectedGradients();

/** True when the core gradients are registered, with our corrections. */
export function gradientsRegistered(): boolean {
  return (
    tf.getGradient('Sum') !== undefined &&
    tf.getGradient('Conv2D') !== undefined &&
    correctedGradientsInstalled()
  );
}
