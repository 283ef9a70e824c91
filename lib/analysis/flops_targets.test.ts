/**
 * FLOPs targets at 512×512, K = 150 (GFLOPs = multiply-adds / 1e9), counted by tracing
 * each registered model (dry-run mode; complexity.test.ts proves it records what a computed
 * forward records).
 *
 * Sources: mmengine counts of SegFormer/SegNeXt measured with torch, the OffSeg counts of
 * docs/flops.md, the paper's Tables 3 and 4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import { withInitSeed } from '../models/core/init.ts';
import { SegNeXt } from '../models/segnext.ts';
import { countFlopsAll, type Forwardable } from './complexity.ts';
import type { ConventionName } from './conventions.ts';

await useBackend('wasm');

const SIZE = [512, 512] as const;

async function gflops(m: Forwardable): Promise<Record<ConventionName, number>> {
  const { reports } = await countFlopsAll(m, { size: SIZE, mode: 'dry-run' });
  m.dispose();
  return { fvcore: reports.fvcore.gflops, 'offseg-paper': reports['offseg-paper'].gflops };
}

function near(got: number, want: number, tol: number, what: string): void {
  const rel = Math.abs(got / want - 1);
  console.log(`[flops] ${what}: ${got.toFixed(3)} G (target ${want}, ${(rel * 100).toFixed(2)}%)`);
  assert.ok(rel <= tol, `${what}: ${got.toFixed(3)} G is ${(rel * 100).toFixed(2)}% from ${want}`);
}

test('fvcore: SegFormer-B0…B5 (mmseg 1.x, 256-channel head) within 2%', async () => {
  const want = { b0: 8.51, b1: 16.03, b2: 25.87, b3: 42.54, b4: 59.2, b5: 75.18 };
  for (const [v, g] of Object.entries(want)) {
    const got = await gflops(createModel(`segformer-${v}`, { numClasses: 150 }));
    near(got.fvcore, g, 0.02, `segformer-${v} fvcore`);
  }
});

test('fvcore: SegNeXt-T 6.45 and -S 15.72 (NMF rank 16, mmengine) within 2%', async () => {
  near(
    (await gflops(createModel('segnext-t', { numClasses: 150 }))).fvcore,
    6.45,
    0.02,
    'segnext-t fvcore',
  );
  near(
    (await gflops(createModel('segnext-s', { numClasses: 150 }))).fvcore,
    15.72,
    0.02,
    'segnext-s fvcore',
  );
});

test('SegNeXt-B: rank 16 (registry) gives the mmengine 32.79 G; rank 64 the SegNeXt paper 34.9 G', async () => {
  // mmseg 1.x configs use R = 16 (32.79 G measured); the original repo and
  // the SegNeXt paper use R = 64 for B, whose extra NMF products explain 34.9 G.
  near(
    (await gflops(createModel('segnext-b', { numClasses: 150 }))).fvcore,
    32.79,
    0.02,
    'segnext-b (R=16) fvcore',
  );
  const r64 = withInitSeed(
    0,
    () => new SegNeXt({ backbone: 'mscan_b', numClasses: 150, nmf: { rank: 64 } }),
  );
  near((await gflops(r64.assignPaths())).fvcore, 34.9, 0.02, 'segnext-b (R=64) fvcore vs paper');
});

test('OffSeg-T/B/L: fvcore 9.54/14.88/22.09 within 3%, offseg-paper 5.36/10.33/17.14 within 2%', async () => {
  // Our fvcore counter leaves CARAFE out (an opaque custom op to fvcore), as the targets do.
  const want = {
    'offseg-t': [9.54, 5.36],
    'offseg-b': [14.88, 10.33],
    'offseg-l': [22.09, 17.14],
  } as const;
  for (const [name, [fv, paper]] of Object.entries(want)) {
    const got = await gflops(createModel(name, { numClasses: 150 }));
    near(got.fvcore, fv, 0.03, `${name} fvcore`);
    near(got['offseg-paper'], paper, 0.02, `${name} offseg-paper`);
  }
});

test("paper Tables 3 and 4, +OL columns: fvcore counts of the retrofits (the paper's own measurements)", async () => {
  // Beyond the measured targets. The paper's baseline FLOPs are copied from other papers (NVlabs SegFormer,
  // SegNeXt with R = 64), but its +OL column matches a full fvcore count of the mmseg 1.x models
  // (R = 16, 256-channel SegFormer head) with OL at 1/8: e.g. SegNeXt-B+OL 34.8 G.
  const want = {
    'segformer-b0-ol': 8.8,
    'segformer-b1-ol': 16.3,
    'segformer-b2-ol': 26.1,
    'segformer-b3-ol': 42.8,
    'segformer-b4-ol': 59.5,
    'segformer-b5-ol': 75.5,
    'segnext-t-ol': 7.2,
    'segnext-s-ol': 16.5,
    'segnext-b-ol': 34.8,
  };
  for (const [name, g] of Object.entries(want)) {
    near((await gflops(createModel(name, { numClasses: 150 }))).fvcore, g, 0.02, `${name} fvcore`);
  }
});
