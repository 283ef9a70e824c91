/**
 * The OffSeg paper's Tables 6 and 7 (ADE20K, OffSeg-T ablations): params and
 * `offseg-paper` FLOPs at 512×512, K = 150, each within 3% of the printed value. Plus the
 * parameter rounding of Tables 3 and 4 (+OL), which tells the two -ol counting rules apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from '../models/registry.ts';
import { countFlops, countParams } from './complexity.ts';

await useBackend('wasm');

async function row(name: string, params: number, gflops: number): Promise<void> {
  const m = createModel(name, { numClasses: 150 });
  const p = countParams(m) / 1e6;
  const g = (await countFlops(m, { size: [512, 512], convention: 'offseg-paper', mode: 'dry-run' }))
    .gflops;
  m.dispose();
  const dp = Math.abs(p / params - 1);
  const dg = Math.abs(g / gflops - 1);
  console.log(
    `[table] ${name}: ${p.toFixed(3)} M (paper ${params}, ${(dp * 100).toFixed(2)}%), ` +
      `${g.toFixed(3)} G (paper ${gflops}, ${(dg * 100).toFixed(2)}%)`,
  );
  assert.ok(dp <= 0.03, `${name}: ${p.toFixed(3)} M vs paper ${params} M`);
  assert.ok(dg <= 0.03, `${name}: ${g.toFixed(3)} G vs paper ${gflops} G`);
}

test('Table 6: component ablation of OffSeg-T (params M / offseg-paper GFLOPs)', async () => {
  // Row 1's "simple conv pixel decoder" is unpublished; offseg-t-conv-pp is the design in
  // lib/models/heads/offseg_head.ts (resize-concat + align + 1×1 classifier) and meets both cells.
  // Rows 3–5 all print 5.3 G: Offset Learning is matrix products only, which the paper's counter
  // leaves out (docs/flops.md), so adding either branch costs nothing in this convention.
  await row('offseg-t-conv-pp', 5.9, 5.1);
  await row('offseg-t-pp', 6.1, 6.0);
  await row('offseg-t-co', 6.2, 5.3);
  await row('offseg-t-fo', 6.2, 5.3);
  await row('offseg-t', 6.2, 5.3);
});

test('Table 7: per-pixel classifier, FreqFusion decoder, align width C', async () => {
  const rows: [number, number, number][] = [
    [64, 6.0, 4.7],
    [128, 6.0, 5.1],
    [256, 6.1, 6.0],
    [512, 6.2, 7.7],
    [768, 6.3, 9.4],
    [1024, 6.4, 11.1],
    [2048, 6.8, 17.9],
  ];
  for (const [c, p, g] of rows) await row(`offseg-t-pp-c${c}`, p, g);
});

test('Tables 3/4 +OL params: the registered -ol rule vs the official head (which keeps conv_seg)', () => {
  // The registered -ol models follow one rule (baseline − classifier + OL). The official
  // heads also keep the unused conv_seg (baseline + OL). Both are within 0.5% of every printed
  // value, but only the official layout reproduces Table 4's rounding for B1, B4 and B5.
  const K = 150;
  const ol = (c: number): number => K * c + 2 * c * c + 2 * K;
  const cls = (c: number): number => c * K + K;
  const rows: [string, number, number, number][] = [
    // name, baseline params, OL width C, paper +OL params (M)
    ['segformer-b0', 3_753_718, 256, 3.9],
    ['segformer-b1', 13_716_822, 256, 13.9],
    ['segformer-b2', 24_761_686, 256, 24.9],
    ['segformer-b3', 44_637_526, 256, 44.8],
    ['segformer-b4', 61_408_086, 256, 61.6],
    ['segformer-b5', 82_008_406, 256, 82.2],
    ['segnext-t', 4_263_414, 256, 4.4],
    ['segnext-s', 13_932_886, 256, 14.1],
    ['segnext-b', 27_636_310, 512, 28.2],
  ];
  const roundedMismatch: string[] = [];
  for (const [name, base, c, paper] of rows) {
    const official = (base + ol(c)) / 1e6;
    const issueRule = (base + ol(c) - cls(c)) / 1e6;
    assert.equal(
      Number(official.toFixed(1)),
      paper,
      `${name}: official layout rounds to the paper`,
    );
    assert.ok(Math.abs(issueRule / paper - 1) < 0.005, `${name}: issue rule within 0.5%`);
    if (Number(issueRule.toFixed(1)) !== paper) roundedMismatch.push(name);
  }
  assert.deepEqual(roundedMismatch, ['segformer-b1', 'segformer-b4', 'segformer-b5']);
});
