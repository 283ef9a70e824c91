/**
 * `offseg flops`: parameters and FLOPs (multiply-adds) of a registered model under both
 * counting conventions of lib/analysis/conventions.ts.
 *   offseg flops --model NAME [--classes K] [--size HxW] [--json] [--per-layer [--depth D]]
 */
import { selectBackend } from '../backend/select.ts';
import {
  countFlopsAll,
  countParams,
  formatPerLayer,
  perLayer,
  type TraceMode,
} from '../analysis/complexity.ts';
import { CONVENTION_NAMES, type ConventionName } from '../analysis/conventions.ts';
import type { OpKind } from '../ops/trace.ts';
import { buildModel } from './model_commands.ts';
import { intOption, parse, requireString, sizeOption } from './args.ts';
import { UserError } from './errors.ts';
import type { Command } from './command.ts';

const round = (macs: number): number => Number((macs / 1e9).toFixed(3));

function kinds(m: Partial<Record<OpKind, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v)]));
}

export const flopsCommand: Command = {
  summary:
    'count parameters and FLOPs (MACs) of a model under the fvcore and offseg-paper conventions',
  help: [
    '  --model NAME      model name (offseg-t, segformer-b0, segnext-t, …)',
    '  --classes K       number of classes (default 150)',
    '  --size HxW        input size, H x W (default 512x512; Cityscapes: 1024x2048)',
    '  --json            print {"model","classes","size":[H,W],"params","gflops":{"fvcore","offseg-paper"}}',
    '  --per-layer       add a per-layer table (with --json: "perLayer", "byKind", "uncounted")',
    '  --depth D         group the per-layer table by the first D components of the module path',
    '  --mode M          dry-run (default: the real forward on a shape-only backend, identical',
    '                    counts in seconds) or compute (run every kernel for real)',
    '  --backend NAME    auto | wasm | cpu (the backend for --mode compute)',
    '',
    '  GFLOPs are multiply-adds / 1e9. CARAFE (FreqFusion) is traced but counted by neither',
    '  convention (fvcore cannot see the custom op); its MACs are reported separately.',
  ].join('\n'),
  async run(argv) {
    const v = parse(argv, {
      model: { type: 'string' },
      classes: { type: 'string' },
      size: { type: 'string' },
      json: { type: 'boolean' },
      'per-layer': { type: 'boolean' },
      depth: { type: 'string' },
      mode: { type: 'string' },
      backend: { type: 'string' },
    });
    const name = requireString(v.model, 'model');
    const classes = intOption(v.classes, 'classes', 150);
    const size = sizeOption(v.size, 'size', [512, 512]);
    const depth = v.depth === undefined ? undefined : intOption(v.depth, 'depth');
    const mode = (v.mode ?? 'dry-run') as TraceMode;
    if (mode !== 'dry-run' && mode !== 'compute')
      throw new UserError(`--mode must be dry-run or compute, got '${String(v.mode)}'`);
    const prefer = (v.backend ?? 'auto') as 'auto';
    await selectBackend({ prefer, log: false });
    const model = buildModel(name, classes);
    if (size[0] % model.sizeDivisor || size[1] % model.sizeDivisor) {
      throw new UserError(
        `--size ${size[0]}x${size[1]}: ${name} needs H and W divisible by ${model.sizeDivisor}`,
      );
    }
    const params = countParams(model);
    const { records, reports } = await countFlopsAll(model, { size, mode });
    model.dispose();
    const gflops = Object.fromEntries(
      CONVENTION_NAMES.map((c) => [c, round(reports[c].macs)]),
    ) as Record<ConventionName, number>;
    // Kinds neither convention counts (e.g. CARAFE), from the fvcore report's leftovers.
    const neither = reports.fvcore.uncounted;
    if (v.json) {
      const out: Record<string, unknown> = { model: name, classes, size, params, gflops };
      if (v['per-layer']) {
        out.byKind = Object.fromEntries(CONVENTION_NAMES.map((c) => [c, kinds(reports[c].byKind)]));
        out.uncounted = kinds(neither);
        out.perLayer = perLayer(records, depth).map((r) => ({
          scope: r.scope,
          gflops: Object.fromEntries(CONVENTION_NAMES.map((c) => [c, round(r.macs[c])])),
          byKind: kinds(r.byKind),
        }));
      }
      console.log(JSON.stringify(out));
      return 0;
    }
    const lines = [
      `${name} (K=${classes}) at ${size[0]}×${size[1]}: ${params.toLocaleString('en-US')} parameters (${(params / 1e6).toFixed(3)} M)`,
      ...CONVENTION_NAMES.map((c) => {
        const parts = Object.entries(kinds(reports[c].byKind))
          .map(([k, g]) => `${k} ${g}`)
          .join(', ');
        return `  ${c.padEnd(13)} ${gflops[c].toFixed(3).padStart(9)} GFLOPs  (${parts})`;
      }),
    ];
    const extra = Object.entries(kinds(neither)).map(([k, g]) => `${k} ${g}`);
    if (extra.length) lines.push(`  counted by neither (GMACs): ${extra.join(', ')}`);
    if (v['per-layer']) lines.push('', formatPerLayer(perLayer(records, depth)));
    console.log(lines.join('\n'));
    return 0;
  },
};
