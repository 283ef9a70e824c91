/** `offseg flops`: the one-line JSON summary and the per-layer flag. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../test/helpers/parity.ts';
import { flopsCommand } from './flops_command.ts';

await useBackend('wasm');

async function capture(argv: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    assert.equal(await flopsCommand.run(argv), 0);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

test('--json prints {model, classes, size, params, gflops{fvcore, offseg-paper}}', async () => {
  const out = JSON.parse(await capture(['--model', 'segnext-t', '--json'])) as Record<
    string,
    unknown
  >;
  assert.deepEqual(Object.keys(out), ['model', 'classes', 'size', 'params', 'gflops']);
  assert.deepEqual(out, {
    model: 'segnext-t',
    classes: 150,
    size: [512, 512],
    params: 4_263_414,
    gflops: { fvcore: 6.45, 'offseg-paper': 6.131 },
  });
});

test('--per-layer adds the table; --classes and --size are honoured', async () => {
  const out = JSON.parse(
    await capture([
      '--model',
      'segformer-b0',
      '--classes',
      '19',
      '--size',
      '256x512',
      '--json',
      '--per-layer',
      '--depth',
      '2',
    ]),
  ) as { size: number[]; classes: number; perLayer: { scope: string }[]; uncounted: object };
  assert.deepEqual(out.size, [256, 512]);
  assert.equal(out.classes, 19);
  assert.deepEqual(
    out.perLayer.map((r) => r.scope),
    [
      'backbone.layers',
      'decode_head.convs',
      'decode_head',
      'decode_head.fusion_conv',
      'decode_head.conv_seg',
    ],
  );
  const text = await capture(['--model', 'segformer-b0', '--size', '256', '--per-layer']);
  assert.match(text, /fvcore\s+\d+\.\d{3} GFLOPs/);
  assert.match(text, /backbone\.layers\.0\.1\.0\.attn\.attn/);
});
