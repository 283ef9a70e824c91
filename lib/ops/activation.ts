/** Activations not in tfjs-core (GELU) and traced softmax. */
import * as tf from '@tensorflow/tfjs-core';

const INV_SQRT2 = Math.SQRT1_2;

/** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as torch.nn.GELU() (not the tanh form). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, INV_SQRT2))))) as T;
}

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.relu(x);
}
