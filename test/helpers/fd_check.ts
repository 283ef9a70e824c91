/**
 * Given gradients of a whole objective (e.g. a training loss) against central differences of
 * that objective: the check shared by the WASM training tests (lib/backend/wasm_training.test.ts,
 * lib/backend/wasm_tiny_convnet.test.ts). The reference is directionalDerivative of ./gradcheck.ts
 * (Richardson-extrapolated, float32-rounded steps), never tfjs autodiff.
 */
import { Rng } from '../../lib/rng.ts';
import { directionalDerivative, dot } from './gradcheck.ts';

/**
 * Given gradients (one per input) against central differences of a forward objective
 * (directionalDerivative of test/helpers/gradcheck.ts: Richardson-extrapolated, float32-rounded
 * steps), per input at `coords` random coordinates and along `directions` random directions
 * (entries N(0,1)/√n, as gradCheck's). Returns per input gradCheck's rel: the worst
 * |⟨g, d⟩ − fd| relative to the input's largest |fd|.
 */
export function fdCheck(
  objective: (xs: Float32Array[]) => number,
  x0: Float32Array[],
  grads: Float32Array[],
  opts: { coords: number; directions: number; eps: number; seed: number },
): number[] {
  const r = new Rng(opts.seed);
  return x0.map((x, k) => {
    const pairs: [number, number][] = [];
    const n = x.length;
    for (let j = 0; j < opts.coords + opts.directions; j++) {
      const v = x0.map((y) => new Float32Array(y.length));
      if (j < opts.coords) v[k][r.int(n)] = 1;
      else for (let i = 0; i < n; i++) v[k][i] = r.normal() / Math.sqrt(n);
      const d = directionalDerivative(objective, x0, v, opts.eps);
      pairs.push([d.fd, dot(grads[k], d.dir[k])]);
    }
    const scale = Math.max(1e-6, ...pairs.map(([a]) => Math.abs(a)));
    return Math.max(...pairs.map(([a, b]) => Math.abs(a - b) / scale));
  });
}
