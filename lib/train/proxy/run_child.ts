/**
 * Child-process entry of a local parallel proxy study (./local_pool.ts), on one WASM thread:
 *   node [--import tsx] run_child.(ts|js) <model> <seed> <quick|full>
 * trains one (variant, seed) through `runProxy`, which writes its result record;
 *   node [--import tsx] run_child.(ts|js) --pretrain <quick|full>
 * trains (or finds) the shared pretrained backbone. A pretraining below the gate still exits 0:
 * its record is written and the parent applies the gate when it reads it. Exits 0 on success.
 */
import { ProxyGateError } from './gate.ts';
import { ensurePretrainedBackbone, runProxy } from './runs.ts';

const argv = process.argv.slice(2);
if (argv[0] === '--pretrain' && (argv[1] === 'quick' || argv[1] === 'full') && argv.length === 2) {
  await ensurePretrainedBackbone(argv[1] === 'quick').catch((e: unknown) => {
    if (!(e instanceof ProxyGateError)) throw e;
  });
} else {
  const [model, seed, mode] = argv;
  if (!model || !/^\d+$/.test(seed ?? '') || (mode !== 'quick' && mode !== 'full')) {
    process.stderr.write(
      'usage: run_child <model> <seed> <quick|full> | --pretrain <quick|full>\n',
    );
    process.exit(2);
  }
  await runProxy({ model, seed: Number(seed), quick: mode === 'quick' });
}
