/**
 * Child-process entry of a local parallel proxy study (./local_pool.ts): trains one
 * (variant, seed) through `runProxy`, which writes its result record; exits 0 on success.
 *   node [--import tsx] run_child.(ts|js) <model> <seed> <quick|full>
 */
import { runProxy } from './runs.ts';

const [model, seed, mode] = process.argv.slice(2);
if (!model || !/^\d+$/.test(seed ?? '') || (mode !== 'quick' && mode !== 'full')) {
  process.stderr.write('usage: run_child <model> <seed> <quick|full>\n');
  process.exit(2);
}
await runProxy({ model, seed: Number(seed), quick: mode === 'quick' });
