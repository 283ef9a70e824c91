/**
 * Swin-T ImageNet weights as the Mask2Former backbone init, as the mmseg config starts it
 * (`init_cfg=dict(type='Pretrained', checkpoint=…swin_tiny_patch4_window7_224_20220317…)`),
 * through `model.init` with `prefix: 'backbone.'`. The checkpoint is built here from the
 * official Swin-T module names (Microsoft's `SwinTransformer`: `patch_embed.proj`,
 * `layers.i.blocks.j.{norm1,attn,norm2,mlp}`, `attn_mask` buffers of the shifted blocks of
 * stages 0–2 at 224², `layers.i.downsample`, `norm`, `head`) renamed as mmseg's
 * `tools/model_converters/swin2mmseg.py` renames them, and saved as that tool saves it (a bare
 * state_dict). Every backbone tensor loads with its value except the four output norms mmseg
 * adds (`norm0`…`norm3`, which keep their init, as mmseg's non-strict load leaves them), and the
 * classifier's final `norm` and the `attn_mask` buffers are reported unused. The same build
 * hands the model the config's `model.loss` settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useBackend } from '../../test/helpers/parity.ts';
import { Rng } from '../rng.ts';
import { tempDir } from '../data/testing.ts';
import { loadConfig } from '../config/compose.ts';
import { saveTorchArchive } from '../io/pth_writer.ts';
import { torchStateDict, type LoadReport } from '../io/checkpoint.ts';
import type { TorchTensor } from '../io/torch_types.ts';
import { Mask2Former } from '../models/mask2former.ts';
import { buildModel } from './build.ts';

await useBackend('cpu');

const DEPTHS = [2, 2, 6, 2];
const HEADS = [3, 6, 12, 24];
const WS = 7;

/** Microsoft Swin-T (224², window 7) state_dict: key → shape. */
function officialSwinT(): [string, number[]][] {
  const out: [string, number[]][] = [
    ['patch_embed.proj.weight', [96, 3, 4, 4]],
    ['patch_embed.proj.bias', [96]],
    ['patch_embed.norm.weight', [96]],
    ['patch_embed.norm.bias', [96]],
  ];
  for (let i = 0; i < 4; i++) {
    const c = 96 * 2 ** i;
    const res = 56 / 2 ** i;
    for (let j = 0; j < DEPTHS[i]; j++) {
      const b = `layers.${i}.blocks.${j}`;
      out.push(
        [`${b}.norm1.weight`, [c]],
        [`${b}.norm1.bias`, [c]],
        [`${b}.attn.relative_position_bias_table`, [(2 * WS - 1) ** 2, HEADS[i]]],
        [`${b}.attn.relative_position_index`, [WS * WS, WS * WS]],
        [`${b}.attn.qkv.weight`, [3 * c, c]],
        [`${b}.attn.qkv.bias`, [3 * c]],
        [`${b}.attn.proj.weight`, [c, c]],
        [`${b}.attn.proj.bias`, [c]],
        [`${b}.norm2.weight`, [c]],
        [`${b}.norm2.bias`, [c]],
        [`${b}.mlp.fc1.weight`, [4 * c, c]],
        [`${b}.mlp.fc1.bias`, [4 * c]],
        [`${b}.mlp.fc2.weight`, [c, 4 * c]],
        [`${b}.mlp.fc2.bias`, [c]],
      );
      // shifted blocks keep their mask as a buffer; at 7×7 (stage 3) the shift is switched off
      if (j % 2 === 1 && res > WS)
        out.push([`${b}.attn_mask`, [(res / WS) ** 2, WS * WS, WS * WS]]);
    }
    if (i < 3)
      out.push(
        [`layers.${i}.downsample.reduction.weight`, [2 * c, 4 * c]],
        [`layers.${i}.downsample.norm.weight`, [4 * c]],
        [`layers.${i}.downsample.norm.bias`, [4 * c]],
      );
  }
  out.push(['norm.weight', [768]], ['norm.bias', [768]], ['head.weight', [1000, 768]]);
  out.push(['head.bias', [1000]]);
  return out;
}

/** swin2mmseg's renaming: head dropped, layers → stages, attn. → attn.w_msa., mlp → ffn, proj → projection. */
function toMmseg(key: string): string | undefined {
  if (key.startsWith('head')) return undefined;
  if (key.startsWith('patch_embed')) return key.replace('proj', 'projection');
  if (!key.startsWith('layers')) return key;
  let k = key;
  if (k.includes('attn.')) k = k.replace('attn.', 'attn.w_msa.');
  else if (k.includes('mlp.fc1.')) k = k.replace('mlp.fc1.', 'ffn.layers.0.0.');
  else if (k.includes('mlp.fc2.')) k = k.replace('mlp.fc2.', 'ffn.layers.1.');
  return k.replace('layers', 'stages');
}

/** (Δy + 6)·13 + (Δx + 6) for every token pair of a 7×7 window, row-major tokens. */
function relativeIndex(): Int32Array {
  const out = new Int32Array(WS ** 4);
  for (let a = 0; a < WS * WS; a++)
    for (let b = 0; b < WS * WS; b++) {
      const dy = Math.floor(a / WS) - Math.floor(b / WS);
      const dx = (a % WS) - (b % WS);
      out[a * WS * WS + b] = (dy + WS - 1) * (2 * WS - 1) + dx + WS - 1;
    }
  return out;
}

test('a Swin-T ImageNet checkpoint in mmseg key names initialises the Mask2Former backbone through model.init', () => {
  const rng = new Rng(7);
  const sd = new Map<string, TorchTensor>();
  for (const [k, shape] of officialSwinT()) {
    const key = toMmseg(k);
    if (!key) continue;
    const n = shape.reduce((a, b) => a * b, 1);
    if (key.endsWith('relative_position_index'))
      sd.set(key, { dtype: 'int64', shape, data: relativeIndex() });
    else
      sd.set(key, {
        dtype: 'float32',
        shape,
        data: Float32Array.from({ length: n }, () => rng.normal()),
      });
  }
  const file = join(tempDir('swin-init-'), 'swin_tiny_patch4_window7_224.pth');
  saveTorchArchive(file, { bare: sd });

  const { config } = loadConfig('configs/mask2former/mask2former-swin-t_ade20k-512_160k.json', [
    `model.init.checkpoint="${file}"`,
    'model.init.prefix="backbone."',
    'model.loss.numPoints=1000',
  ]);
  let report: LoadReport | undefined;
  const model = buildModel(config, { onInit: (r) => (report = r) });
  assert.ok(report);
  assert.ok(model instanceof Mask2Former);
  assert.deepEqual(model.lossSettings, {
    numPoints: 1000,
    oversample: 3,
    importance: 0.75,
    noObjectWeight: 0.1,
    weights: { cls: 2, mask: 5, dice: 5 },
    match: { cls: 2, mask: 5, dice: 5, diceEps: 1 },
  });
  const r = report;
  const backboneKeys = model
    .stateEntries()
    .map((e) => e.key)
    .filter((k) => k.startsWith('backbone.'));
  const outNorms = [0, 1, 2, 3].flatMap((i) => [
    `backbone.norm${i}.weight`,
    `backbone.norm${i}.bias`,
  ]);
  assert.deepEqual(r.missing.filter((k) => k.startsWith('backbone.')).sort(), [...outNorms].sort());
  assert.deepEqual([...r.loaded].sort(), backboneKeys.filter((k) => !outNorms.includes(k)).sort());
  assert.deepEqual([...r.unexpected].sort(), [
    'backbone.norm.bias',
    'backbone.norm.weight',
    'backbone.stages.0.blocks.1.attn_mask',
    'backbone.stages.1.blocks.1.attn_mask',
    'backbone.stages.2.blocks.1.attn_mask',
    'backbone.stages.2.blocks.3.attn_mask',
    'backbone.stages.2.blocks.5.attn_mask',
  ]);
  assert.deepEqual(r.skipped, []);
  // The values arrived: the model's torch-layout state_dict equals the file, key for key.
  const back = torchStateDict(model);
  for (const k of r.loaded) {
    const want = sd.get(k.slice('backbone.'.length))!;
    const got = back.get(k)!;
    assert.deepEqual(got.shape, want.shape, k);
    assert.ok(
      got.data.every((v, i) => v === want.data[i]),
      `${k}: values differ after loading`,
    );
  }
  model.dispose();
});
