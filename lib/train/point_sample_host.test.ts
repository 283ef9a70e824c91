/**
 * Host point sampling on hand-computed cases of a 2×3 map [[1, 2, 3], [4, 5, 6]]: a pixel
 * centre reads its value, the midpoint of four centres their mean, the image corner a quarter of
 * the corner pixel (three taps fall in the zero padding), points far outside read 0; shared
 * points serve every map, per-map points each their own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pointSampleHost } from './point_sample_host.ts';

const map = [1, 2, 3, 4, 5, 6]; // h 2, w 3
const close = (a: ArrayLike<number>, b: number[]) =>
  b.every((v, i) => Math.abs(a[i] - v) < 1e-6) && a.length === b.length;

test('pixel centres, midpoints, corners and far-away points', () => {
  const pts = [
    [0.5 / 3, 0.25], // centre of (0, 0) → 1
    [2.5 / 3, 0.75], // centre of (1, 2) → 6
    [1 / 3, 0.5], // midpoint of 1, 2, 4, 5 → 3
    [0, 0], // image corner: ¼ of pixel (0, 0) → 0.25
    [1, 0.5], // right edge, between rows: ½ · ½ (3 + 6) → 2.25
    [-1, 2], // far outside → 0
  ].flat();
  assert.ok(close(pointSampleHost(map, 1, 2, 3, pts, 6), [1, 6, 3, 0.25, 2.25, 0]));
});

test('shared points serve every map; per-map points each their own; a bad length throws', () => {
  const two = [...map, ...map.map((v) => 10 * v)];
  const centre00 = [0.5 / 3, 0.25];
  assert.ok(close(pointSampleHost(two, 2, 2, 3, centre00, 1), [1, 10]));
  const perMap = [0.5 / 3, 0.25, 2.5 / 3, 0.75];
  assert.ok(close(pointSampleHost(two, 2, 2, 3, perMap, 1), [1, 60]));
  assert.throws(() => pointSampleHost(two, 2, 2, 3, [0.5, 0.5, 0.5], 1), /fit neither/);
});
