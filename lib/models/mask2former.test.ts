/**
 * mask2former-swin-t-ol (ADE20K, K = 150): parameters per part by construction (backbone /
 * pixel decoder / transformer decoder / heads / Offset Learning), the mmseg + mmdet key list,
 * a load plan of a state_dict with exactly those keys (0 missing, 0 unexpected), and the
 * multiply-adds Offset Learning adds under both FLOPs conventions.
 * The plain model (47,439,633) is counted in mask2former.plain.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../test/helpers/parity.ts';
import { createModel } from './registry.ts';
import { torchShape } from './core/module.ts';
import { planStateDict, type TorchTensor } from '../io/checkpoint.ts';
import { summarize, traceModel } from '../analysis/complexity.ts';

await useBackend('wasm');

const K = 150;
const C = 256;
const model = createModel('mask2former-swin-t-ol', { numClasses: K });
const entries = model.stateEntries();

const lin = (i: number, o: number, bias = true) => i * o + (bias ? o : 0);
const ln = (c: number) => 2 * c;

/** Params under a key prefix. */
function part(prefix: string): number {
  return model
    .namedParameters()
    .filter((e) => e.key.startsWith(prefix))
    .reduce((a, e) => a + e.variable.size, 0);
}

test('Mask2Former-Swin-T + OL parameters per part, by construction', () => {
  const pd = 'decode_head.pixel_decoder.';
  // input_convs: 1×1 conv with bias + GN(32), from the stride-32, -16, -8 maps
  [768, 384, 192].forEach((cin, i) =>
    assert.equal(part(`${pd}input_convs.${i}.`), cin * C + C + 2 * C),
  );
  // encoder layer: MSDA (8 heads × 3 levels × 4 points), FFN 1024, two LayerNorms
  const msda = lin(C, 8 * 3 * 4 * 2) + lin(C, 8 * 3 * 4) + 2 * lin(C, C);
  const encLayer = msda + lin(C, 1024) + lin(1024, C) + 2 * ln(C);
  for (let j = 0; j < 6; j++) assert.equal(part(`${pd}encoder.layers.${j}.`), encLayer);
  assert.equal(part(`${pd}level_encoding.`), 3 * C);
  assert.equal(part(`${pd}lateral_convs.0.`), 96 * C + 2 * C);
  assert.equal(part(`${pd}output_convs.0.`), 9 * C * C + 2 * C);
  assert.equal(part(`${pd}mask_feature.`), lin(C, C));
  const pixelDecoder = part(pd);
  assert.equal(pixelDecoder, 5_421_504);
  // decoder layer: self- and cross-attention (packed in-projection + out_proj), FFN 2048, 3 norms
  const mha = lin(C, 3 * C) + lin(C, C);
  const decLayer = 2 * mha + lin(C, 2048) + lin(2048, C) + 3 * ln(C);
  const td = 'decode_head.transformer_decoder.';
  for (let j = 0; j < 9; j++) assert.equal(part(`${td}layers.${j}.`), decLayer);
  assert.equal(part(`${td}post_norm.`), ln(C));
  const transformerDecoder = part(td);
  assert.equal(transformerDecoder, 14_209_280);
  // heads: queries (features + positions), level embedding, classifier (K + 1), mask MLP
  const heads =
    part('decode_head.query_feat.') +
    part('decode_head.query_embed.') +
    part('decode_head.level_embed.') +
    part('decode_head.cls_embed.') +
    part('decode_head.mask_embed.');
  assert.equal(heads, 100 * C * 2 + 3 * C + lin(C, K + 1) + 3 * lin(C, C));
  assert.equal(heads, 288_151);
  // Offset Learning: two bias-free C×C projections
  assert.equal(part('decode_head.offset_learning.'), 131_072);
  assert.equal(part('decode_head.offset_learning.'), 2 * C * C);
  const backbone = part('backbone.');
  assert.equal(backbone, 27_520_698); // proven module by module in backbones/swin.test.ts
  assert.equal(backbone + pixelDecoder + transformerDecoder + heads, 47_439_633); // the plain model
  assert.equal(model.numParams(), 47_570_705);
  assert.equal(model.numParams() - 47_439_633, 131_072);
});

/** The official decode_head keys, written from mmdet's module names. */
function officialHeadKeys(): string[] {
  const k: string[] = [];
  const wb = (p: string) => k.push(`${p}.weight`, `${p}.bias`);
  const pd = 'decode_head.pixel_decoder';
  for (let i = 0; i < 3; i++) {
    wb(`${pd}.input_convs.${i}.conv`);
    wb(`${pd}.input_convs.${i}.gn`);
  }
  for (let j = 0; j < 6; j++) {
    const l = `${pd}.encoder.layers.${j}`;
    for (const m of ['sampling_offsets', 'attention_weights', 'value_proj', 'output_proj'])
      wb(`${l}.self_attn.${m}`);
    wb(`${l}.ffn.layers.0.0`);
    wb(`${l}.ffn.layers.1`);
    wb(`${l}.norms.0`);
    wb(`${l}.norms.1`);
  }
  k.push(`${pd}.level_encoding.weight`, `${pd}.lateral_convs.0.conv.weight`);
  wb(`${pd}.lateral_convs.0.gn`);
  k.push(`${pd}.output_convs.0.conv.weight`);
  wb(`${pd}.output_convs.0.gn`);
  wb(`${pd}.mask_feature`);
  const td = 'decode_head.transformer_decoder';
  for (let j = 0; j < 9; j++) {
    const l = `${td}.layers.${j}`;
    for (const a of ['self_attn', 'cross_attn']) {
      k.push(`${l}.${a}.attn.in_proj_weight`, `${l}.${a}.attn.in_proj_bias`);
      wb(`${l}.${a}.attn.out_proj`);
    }
    wb(`${l}.ffn.layers.0.0`);
    wb(`${l}.ffn.layers.1`);
    for (let n = 0; n < 3; n++) wb(`${l}.norms.${n}`);
  }
  wb(`${td}.post_norm`);
  k.push('decode_head.query_embed.weight', 'decode_head.query_feat.weight');
  k.push('decode_head.level_embed.weight');
  wb('decode_head.cls_embed');
  for (const i of [0, 2, 4]) wb(`decode_head.mask_embed.${i}`);
  k.push('decode_head.offset_learning.cls_offset_proj.weight');
  k.push('decode_head.offset_learning.feat_offset_proj.weight');
  return k;
}

test('decode_head keys are mmdet/mmseg module names; torch shapes of the packed and deformable projections', () => {
  const ours = entries.map((e) => e.key).filter((k) => k.startsWith('decode_head.'));
  assert.deepEqual([...ours].sort(), officialHeadKeys().sort());
  const shape = (key: string) => {
    const e = entries.find((x) => x.key === key)!;
    return torchShape(e.variable.shape, e.layout);
  };
  const td = 'decode_head.transformer_decoder.layers.0';
  assert.deepEqual(shape(`${td}.cross_attn.attn.in_proj_weight`), [768, 256]);
  assert.deepEqual(shape('decode_head.cls_embed.weight'), [151, 256]);
  const enc = 'decode_head.pixel_decoder.encoder.layers.5.self_attn';
  assert.deepEqual(shape(`${enc}.sampling_offsets.weight`), [192, 256]);
  assert.deepEqual(shape(`${enc}.attention_weights.weight`), [96, 256]);
  assert.deepEqual(shape('decode_head.pixel_decoder.output_convs.0.conv.weight'), [256, 256, 3, 3]);
  assert.deepEqual(shape('decode_head.pixel_decoder.input_convs.0.conv.weight'), [256, 768, 1, 1]);
});

test('a state_dict with the official key list loads with 0 missing and 0 unexpected keys', () => {
  const sd = new Map<string, TorchTensor>();
  const shapes = new Map(entries.map((e) => [e.key, torchShape(e.variable.shape, e.layout)]));
  // backbone keys are checked against mmseg's swin.py names in backbones/swin.test.ts
  const official = [
    ...officialHeadKeys(),
    ...entries.map((e) => e.key).filter((k) => k.startsWith('backbone.')),
  ];
  for (const key of official) {
    const shape = shapes.get(key) ?? [1];
    const n = shape.reduce((a, b) => a * b, 1);
    sd.set(key, { dtype: 'float32', shape, data: new Float32Array(n) });
  }
  const { report } = planStateDict(model, { stateDict: sd, otherKeys: [], source: 'official' });
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.unexpected, []);
  assert.equal(report.loaded.length, entries.length);
  // the plain checkpoint into the Offset Learning model: exactly the two projections are missing
  sd.delete('decode_head.offset_learning.cls_offset_proj.weight');
  sd.delete('decode_head.offset_learning.feat_offset_proj.weight');
  const plain = planStateDict(model, { stateDict: sd, otherKeys: [] }).report;
  assert.deepEqual(plain.missing.sort(), [
    'decode_head.offset_learning.cls_offset_proj.weight',
    'decode_head.offset_learning.feat_offset_proj.weight',
  ]);
});

test('Offset Learning FLOPs: 10 × (3·Q·N·C + N·C² + Q·C²) under fvcore, none under the paper convention', async () => {
  const records = await traceModel(model, { size: [64, 64], mode: 'dry-run' });
  const ol = records.filter((r) => r.scope.startsWith('decode_head.offset_learning'));
  const n = 16 * 16; // mask features at stride 4
  const q = 100;
  const macs = ol.reduce((a, r) => a + r.macs, 0);
  assert.equal(macs, 10 * (3 * q * n * C + n * C * C + q * C * C));
  assert.equal(summarize(ol, 'fvcore', [64, 64]).macs, macs);
  assert.equal(summarize(ol, 'offseg-paper', [64, 64]).macs, 0);
});
