/**
 * Whole-model gradient check, every parameter tensor (the test suite samples a few per family):
 * `npm run gradcheck -- [--models offseg-t,segformer-b0-ol] [--grad-checkpoint]`.
 * Per model: the gradient and two orthant directions over all parameters, then the gradient
 * direction inside each tensor (test/helpers/model_gradcheck.ts explains the directions and the noise
 * control). Writes results/gradcheck/<model>[-ckpt].json and prints a summary with the worst
 * tensors. Exit 1 if any check exceeds 1e-3.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { selectBackend } from '../lib/backend/select.ts';
import { setGradientCheckpointing } from '../lib/models/core/grad_checkpoint.ts';
import { ModelGradCheck, passes, type DirectionResult } from '../test/helpers/model_gradcheck.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'offseg-t,offseg-t-conv-pp,segformer-b0-ol,segnext-t-ol' },
    'grad-checkpoint': { type: 'boolean', default: false },
    tol: { type: 'string', default: '1e-3' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const tol = Number(values.tol);
const be = await selectBackend({ prefer: values.backend as 'wasm' | 'cpu', log: true });
setGradientCheckpointing(values['grad-checkpoint'] ?? false);
let failed = 0;
for (const name of (values.models ?? '').split(',').filter(Boolean)) {
  const t0 = Date.now();
  const c = new ModelGradCheck(name);
  const whole = [c.gradientDirection(), c.orthantDirection(1), c.orthantDirection(2)];
  const norms = c.keys.map((_, i) => c.tensorNorm(i));
  const maxNorm = Math.max(...norms);
  const tensors: (DirectionResult & { norm: number })[] = [];
  const zero: string[] = [];
  const unresolved: string[] = [];
  c.keys.forEach((k, i) => {
    // |∇| ≤ 1e-6 of the largest: exactly 0 for conv biases before BatchNorm, ~1e-8 behind
    // EfficientFormerV2's 1e-5 layer scales — below anything float32 differences can resolve
    if (norms[i] <= 1e-6 * maxNorm) {
      zero.push(k);
      return;
    }
    const r = c.checkTensor(i);
    if (!r) {
      unresolved.push(k);
      return;
    }
    tensors.push({ ...r, norm: norms[i] });
    if (tensors.length % 25 === 0) {
      const el = (Date.now() - t0) / 1000;
      const eta =
        (el / tensors.length) * (c.keys.length - tensors.length - zero.length - unresolved.length);
      process.stderr.write(
        `  ${name}: ${tensors.length}/${c.keys.length} tensors, ETA ${eta.toFixed(0)} s\n`,
      );
    }
  });
  const bad = [...whole, ...tensors].filter((r) => !passes(r, tol));
  failed += bad.length;
  const worst = [...tensors].sort((a, b) => b.rel - a.rel).slice(0, 5);
  console.log(
    `${name}${values['grad-checkpoint'] ? ' (gradient checkpointing)' : ''}: loss ${c.loss.toFixed(5)}, ` +
      whole
        .map(
          (r) =>
            `${r.name} rel ${r.rel.toExponential(2)}${r.sigma ? ` (σ ${(r.sigma / Math.abs(r.analytic)).toExponential(1)})` : ''}`,
        )
        .join(', ') +
      `; ${tensors.length} tensors checked, worst ${worst.map((r) => `${r.name} ${r.rel.toExponential(2)}`).join(', ')}; ` +
      `${zero.length} with |∇| ≤ 1e-6 of the largest, ${unresolved.length} more below float32 resolution; ${bad.length} failing${bad.length ? ` (${bad.map((r) => `${r.name} ${r.fd.toPrecision(6)} vs ${r.analytic.toPrecision(6)} ± ${(r.sigma ?? 0).toExponential(1)}`).join('; ')})` : ''}; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  mkdirSync('results/gradcheck', { recursive: true });
  const file = `results/gradcheck/${name}${values['grad-checkpoint'] ? '-ckpt' : ''}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      {
        model: name,
        backend: be.name,
        tol,
        loss: c.loss,
        whole,
        tensors,
        zeroGradient: zero,
        unresolved,
      },
      null,
      1,
    ) + '\n',
  );
  c.dispose();
}
process.exit(failed ? 1 : 0);
