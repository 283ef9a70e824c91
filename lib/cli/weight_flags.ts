/**
 * The flags every command that reads weights shares (`forward`, `eval`, `grad-step`), mapped onto
 * lib/io/load_weights.ts options, and the one summary line each load prints.
 */
import type { Module } from '../models/core/module.ts';
import { summarizeLoadReport, type LoadReport } from '../io/checkpoint.ts';
import type { LoadHints } from '../io/key_diagnosis.ts';
import { loadWeightsFile, type WeightLoadOptions } from '../io/load_weights.ts';
import type { Options } from './args.ts';

export const WEIGHT_FLAGS = {
  'skip-mismatched': { type: 'boolean' },
  'strip-prefix': { type: 'string' },
  'add-prefix': { type: 'string' },
} as const satisfies Options;

export const WEIGHT_FLAGS_HELP = [
  '  --skip-mismatched      load the tensors whose shapes fit; the others keep their init',
  "  --strip-prefix P       use only checkpoint keys under P, without it ('module.' is always stripped)",
  "  --add-prefix P         put checkpoint keys under P (e.g. 'backbone.')",
];

/** Load options from parsed flags; every model tensor must load (inference needs them all). */
export function weightOptions(
  v: Record<string, string | boolean | (string | boolean)[] | undefined>,
  model: string,
): WeightLoadOptions {
  const hints: LoadHints = {
    style: 'flag',
    stripPrefix: '--strip-prefix',
    addPrefix: '--add-prefix',
    skipMismatched: '--skip-mismatched',
    model,
  };
  return {
    skipMismatched: v['skip-mismatched'] === true,
    stripPrefix: typeof v['strip-prefix'] === 'string' ? v['strip-prefix'] : undefined,
    addPrefix: typeof v['add-prefix'] === 'string' ? v['add-prefix'] : undefined,
    minLoaded: 1,
    hints,
  };
}

/** Load `path` into `model` and print its one-line summary on stderr. */
export function loadAndReport(model: Module, path: string, opts: WeightLoadOptions): LoadReport {
  const report = loadWeightsFile(model, path, opts);
  process.stderr.write(`[offseg] weights ${path}: ${summarizeLoadReport(report)}\n`);
  return report;
}
