/** Activations not in tfjs-core (GELU) and traced softmax. */
import * as tf from '@tensorflow/tfjs-core';
import { asComposite } from './composite.ts';

const INV_SQRT2 = Math.SQRT1_2;

/** Name of the one-pass GELU kernel (lib/backend/kernels/gelu.ts), where a backend has one. */
const GELU_KERNEL = 'OffsegGelu';

/**
 * Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as torch.nn.GELU() (not the tanh form). On a
 * backend with the fused kernel (WASM) it is one pass with its own gradient; elsewhere it is
 * composed from tfjs ops. Either way the ONNX exporter records one GELU (./composite.ts).
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  return asComposite({ kind: 'gelu' }, [x], () => {
    if (x.dtype === 'float32' && tf.getKernel(GELU_KERNEL, tf.getBackend())) {
      return tf.engine().runKernel(GELU_KERNEL, { x }) as T;
    }
    return geluComposite(x);
  });
}

/** GELU from tfjs ops (any backend); the reference for the fused kernel. */
export function geluComposite<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, INV_SQRT2))))) as T;
}

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x);
}
