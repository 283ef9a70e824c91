/**
 * Table 5's parameter split on a tiny Mask2Former (C = 32, 3 decoder layers, 5 queries, K = 4):
 * the parts are disjoint and sum to the total, Offset Learning is exactly 2·C², and the heads
 * part is query_feat + query_embed + level_embed + cls_embed + mask_embed by formula.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../test/helpers/parity.ts';
import { tinyMask2Former } from '../../test/helpers/tiny_mask2former.ts';
import { Mask2Former } from '../models/mask2former.ts';
import { mask2formerParts } from './table5.ts';

await useBackend('cpu');

const tiny = (offsetLearning: boolean): Mask2Former =>
  tinyMask2Former(1, { numClasses: 4, offsetLearning });

test('parts sum to the total; Offset Learning is 2·C²; heads by formula', () => {
  const C = 32;
  const plain = tiny(false);
  const ol = tiny(true);
  const a = mask2formerParts(plain);
  const b = mask2formerParts(ol);
  for (const p of [a, b])
    assert.equal(
      p.backbone + p.pixelDecoder + p.transformerDecoder + p.heads + p.offsetLearning,
      p.total,
    );
  assert.equal(a.offsetLearning, 0);
  assert.equal(b.offsetLearning, 2 * C * C);
  assert.equal(b.total - a.total, 2 * C * C);
  // query_feat 5·C + query_embed 5·C + level_embed 3·C + cls_embed C·5 + 5 + mask_embed 3·(C² + C)
  assert.equal(a.heads, 5 * C + 5 * C + 3 * C + (C * 5 + 5) + 3 * (C * C + C));
  assert.equal(b.heads, a.heads);
  const backboneKeys = plain.namedParameters().filter((e) => e.key.startsWith('backbone.'));
  assert.equal(
    a.backbone,
    backboneKeys.reduce((s, e) => s + e.variable.size, 0),
  );
  plain.dispose();
  ol.dispose();
});
