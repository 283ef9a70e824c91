/**
 * Targets at Cityscapes size, K = 19: offseg-paper 44.7 / 86.3 / 142.7 G for
 * OffSeg-T/B/L within 2% (docs/flops.md), and the full fvcore counts measured there
 * (88.6 / 152.0 / 230.4 G).
 *
 * Size: the paper's Cityscapes images are 1024×2048 (H×W), while mmseg's get_flops default
 * shape builds a 2048×1024 tensor; for these models the count is the same either way (checked
 * below for OffSeg-T). These traces run in dry-run mode: a computed forward at this size needs
 * more memory than the WASM heap holds (the attention-downsample logits are 8×2048×8192 floats).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import { countFlopsAll } from './complexity.ts';

await useBackend('wasm');

function near(got: number, want: number, tol: number, what: string): void {
  const rel = Math.abs(got / want - 1);
  console.log(`[flops] ${what}: ${got.toFixed(3)} G (target ${want}, ${(rel * 100).toFixed(2)}%)`);
  assert.ok(rel <= tol, `${what}: ${got.toFixed(3)} G is ${(rel * 100).toFixed(2)}% from ${want}`);
}

test('OffSeg-T/B/L at 1024×2048, K = 19: offseg-paper and fvcore', async () => {
  const want = {
    'offseg-t': [44.7, 88.6],
    'offseg-b': [86.3, 152.0],
    'offseg-l': [142.7, 230.4],
  } as const;
  for (const [name, [paper, fv]] of Object.entries(want)) {
    const m = createModel(name, { numClasses: 19 });
    const { reports } = await countFlopsAll(m, { size: [1024, 2048], mode: 'dry-run' });
    m.dispose();
    near(reports['offseg-paper'].gflops, paper, 0.02, `${name} offseg-paper @1024×2048`);
    near(reports.fvcore.gflops, fv, 0.02, `${name} fvcore @1024×2048`);
  }
});

test('OffSeg-T: 2048×1024 (mmseg get_flops default shape) counts the same as 1024×2048', async () => {
  const m = createModel('offseg-t', { numClasses: 19 });
  const a = await countFlopsAll(m, { size: [1024, 2048], mode: 'dry-run' });
  const b = await countFlopsAll(m, { size: [2048, 1024], mode: 'dry-run' });
  m.dispose();
  assert.equal(b.reports.fvcore.macs, a.reports.fvcore.macs);
  assert.equal(b.reports['offseg-paper'].macs, a.reports['offseg-paper'].macs);
});
