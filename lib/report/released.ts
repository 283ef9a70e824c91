/**
 * "Ours" mIoU of a paper table: evaluate a RELEASED checkpoint on the real benchmark
 * through lib/eval/evaluate.ts, but only when the user has both; otherwise say why not.
 *   dataset roots:  OFFSEG_ADE20K_ROOT, OFFSEG_CITYSCAPES_ROOT, OFFSEG_COCO_STUFF164K_ROOT
 *   checkpoints:    OFFSEG_CKPT_<MODEL>_<DATASET>, e.g. OFFSEG_CKPT_OFFSEG_T_ADE20K
 *                   (OFFSEG_CKPT_<MODEL> alone means its ADE20K checkpoint)
 *   OFFSEG_EVAL_LIMIT=N scores only the first N validation images (a smoke run; 20 in quick mode).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/compose.ts';
import { DATASET_ROOT_ENV } from '../config/dataset_env.ts';
import { evaluateCheckpoint } from '../train/evaluate_checkpoint.ts';
import { repoRoot } from '../paths.ts';
import { isQuick } from './section.ts';
import type { Cell, Table } from './table.ts';
import { envPatterned, envPositiveInt } from '../env.ts';

/** The benchmarks the paper's tables report (each has its folder variable in DATASET_ROOT_ENV). */
export type Benchmark = 'ade20k' | 'cityscapes' | 'coco-stuff164k';

const ENV_DATASET: Record<Benchmark, string> = {
  ade20k: 'ADE20K',
  cityscapes: 'CITYSCAPES',
  'coco-stuff164k': 'COCO_STUFF164K',
};

/** The environment variable naming a model's released checkpoint for one benchmark. */
export function checkpointEnv(model: string, bench: Benchmark): string {
  return `OFFSEG_CKPT_${model.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${ENV_DATASET[bench]}`;
}

function checkpointPath(model: string, bench: Benchmark): string | undefined {
  const exact = envPatterned(checkpointEnv(model, bench));
  if (exact) return exact;
  if (bench === 'ade20k')
    return envPatterned(`OFFSEG_CKPT_${model.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`);
  return undefined;
}

export type ReleasedEval =
  | { status: 'run'; mIoU: number; aAcc: number; mAcc: number; images: number; checkpoint: string }
  | { status: 'not-run'; reason: string };

/** The config a model is evaluated with: the OffSeg configs, or ADE20K's with the model swapped. */
function configFor(model: string, bench: Benchmark): { file: string; overrides: string[] } {
  const dir = join(repoRoot(), 'configs', 'offseg');
  const own = ['512_160k', '1024_160k', '512_80k']
    .map((s) => join(dir, `${model}_${bench}-${s}.json`))
    .find((f) => existsSync(f));
  if (own) return { file: own, overrides: [] };
  // SegFormer / SegNeXt ± OL: mmseg's ADE20K configs of these models test whole images.
  return {
    file: join(dir, 'offseg-t_ade20k-512_160k.json'),
    overrides: [`model.name=${model}`, 'data.test.mode=whole'],
  };
}

/** Evaluate `model`'s released checkpoint on `bench` if the user provided both. */
export async function evalReleased(model: string, bench: Benchmark): Promise<ReleasedEval> {
  const root = process.env[DATASET_ROOT_ENV[bench]];
  const ckpt = checkpointPath(model, bench);
  const missing: string[] = [];
  if (!root) missing.push(`dataset root (${DATASET_ROOT_ENV[bench]})`);
  else if (!existsSync(root)) missing.push(`dataset root ${root} does not exist`);
  if (!ckpt) missing.push(`released checkpoint (${checkpointEnv(model, bench)})`);
  else if (!existsSync(ckpt)) missing.push(`checkpoint ${ckpt} does not exist`);
  if (missing.length) return { status: 'not-run', reason: `no ${missing.join(', no ')}` };
  if (bench !== 'ade20k' && !model.startsWith('offseg-'))
    return { status: 'not-run', reason: `no ${bench} config for ${model}` };
  const { file, overrides } = configFor(model, bench);
  const { config } = loadConfig(file, [...overrides, `data.dataset.dataRoot=${root}`]);
  const limit = envPositiveInt('OFFSEG_EVAL_LIMIT') ?? (isQuick() ? 20 : undefined);
  const r = await evaluateCheckpoint(config, ckpt!, {
    limit,
    log: (line) => process.stderr.write(`[released] ${line}\n`),
  });
  return {
    status: 'run',
    mIoU: r.reported.mIoU,
    aAcc: r.reported.aAcc,
    mAcc: r.reported.mAcc,
    images: r.numImages,
    checkpoint: ckpt!,
  };
}

export const BENCHMARK_LABEL: Record<Benchmark, string> = {
  ade20k: 'ADE',
  cityscapes: 'CS',
  'coco-stuff164k': 'COCO',
};

export interface MiouRow {
  model: string;
  /** The paper's mIoU per benchmark (quoted). */
  quoted: Partial<Record<Benchmark, number>>;
}

/**
 * The mIoU half of a paper table: per benchmark a quoted column and an "ours" column, measured
 * from a released checkpoint when the user gave one and the dataset (else "–" and a note saying
 * why it was not run here).
 */
export async function releasedMiouTable(
  title: string,
  rows: readonly MiouRow[],
  benches: readonly Benchmark[],
): Promise<{ table: Table; results: Record<string, Partial<Record<Benchmark, ReleasedEval>>> }> {
  const results: Record<string, Partial<Record<Benchmark, ReleasedEval>>> = {};
  const reasons = new Map<string, string[]>();
  const out: Cell[][] = [];
  for (const r of rows) {
    const row: Cell[] = [r.model];
    results[r.model] = {};
    for (const b of benches) {
      const e = await evalReleased(r.model, b);
      results[r.model][b] = e;
      row.push(r.quoted[b] ?? null, e.status === 'run' ? e.mIoU : null);
      if (e.status === 'not-run') {
        const why = e.reason.replace(
          checkpointEnv(r.model, b),
          `OFFSEG_CKPT_<MODEL>_${ENV_DATASET[b]}`,
        );
        reasons.set(why, [...(reasons.get(why) ?? []), `${r.model} ${BENCHMARK_LABEL[b]}`]);
      }
    }
    out.push(row);
  }
  const notes = [
    "Ours (measured) = the released checkpoint evaluated here with mmseg's protocol (lib/eval/evaluate.ts); quoted = the paper.",
    ...[...reasons].map(([why, where]) => `Not run here (${where.join(', ')}): ${why}.`),
    ...Object.entries(results).flatMap(([m, per]) =>
      Object.entries(per)
        .filter(([, e]) => e.status === 'run')
        .map(([b, e]) =>
          e.status === 'run'
            ? `${m} ${b}: ${e.images} images from ${e.checkpoint}, aAcc ${e.aAcc}, mAcc ${e.mAcc}.`
            : '',
        ),
    ),
  ];
  const columns = [
    'model',
    ...benches.flatMap((b) => [
      `${BENCHMARK_LABEL[b]} mIoU (quoted)`,
      `${BENCHMARK_LABEL[b]} mIoU ours (measured)`,
    ]),
  ];
  return { table: { title, columns, rows: out, notes }, results };
}
