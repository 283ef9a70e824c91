/** `offseg train` and `offseg eval`. */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { selectBackend, describeBackend, type BackendName } from '../backend/select.ts';
import { loadConfig } from '../config/compose.ts';
import type { RunConfig } from '../config/schema.ts';
import { buildDatasets, buildModel, testPipeline, trainPipeline } from '../train/build.ts';
import { train } from '../train/loop.ts';
import { gitCommit, prepareRunDir, writeJson } from '../train/run_dir.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { exportPth, loadStateDict, readTorchCheckpoint } from '../io/checkpoint.ts';
import { evaluate } from '../eval/evaluate.ts';
import { formatClassTable, formatSummaryTable, type IoUResult } from '../eval/iou_metric.ts';
import type { Segmentor } from '../models/offseg.ts';
import { parse, requireString, intOption, splitCfgOptions } from './args.ts';
import { UserError } from './errors.ts';
import { progressBar } from './progress.ts';
import type { Command } from './commands.ts';

const COMMON = {
  config: { type: 'string' },
  backend: { type: 'string' },
} as const;

export function resultJson(r: IoUResult): Record<string, unknown> {
  const m = r.reported;
  return {
    aAcc: m.aAcc,
    mIoU: m.mIoU,
    mAcc: m.mAcc,
    numImages: r.numImages,
    IoU: Object.fromEntries(
      r.classNames.map((c, i) => [c, Number.isNaN(m.IoU[i]) ? null : m.IoU[i]]),
    ),
    Acc: Object.fromEntries(
      r.classNames.map((c, i) => [c, Number.isNaN(m.Acc[i]) ? null : m.Acc[i]]),
    ),
  };
}

export function printResult(r: IoUResult): void {
  console.log('per class results:');
  console.log(formatClassTable(r));
  console.log('Summary:');
  console.log(formatSummaryTable(r));
}

/** Load weights from an official/exported .pth or an offseg-ts training checkpoint (.ckpt). */
export function loadWeights(model: Segmentor, path: string): string {
  if (!existsSync(path)) throw new UserError(`checkpoint not found: ${path}`);
  if (path.endsWith('.ckpt')) {
    const { tensors } = loadCheckpoint(path);
    for (const e of [...model.namedParameters(), ...model.namedBuffers()]) {
      const t = tensors.get(`model.${e.key}`);
      if (!t)
        throw new UserError(
          `${path} has no tensor for ${e.key}: was it written for another model?`,
        );
      e.variable.assign(t.dtype === e.variable.dtype ? t : tf.cast(t, e.variable.dtype));
    }
    for (const t of tensors.values()) t.dispose();
    return 'offseg-ts checkpoint';
  }
  const report = loadStateDict(model, readTorchCheckpoint(path), { strict: false });
  if (report.missing.length) {
    throw new UserError(
      `${path} does not fit the model: ${report.missing.length} keys missing (e.g. ${report.missing.slice(0, 3).join(', ')})`,
    );
  }
  return `PyTorch checkpoint (${report.loaded.length} tensors, ${report.unexpected.length} unused)`;
}

export const trainCommand: Command = {
  summary: 'train a model from a config (resumable)',
  help: [
    '  --config FILE          experiment config (configs/…)',
    '  --work-dir DIR         run folder (default work_dirs/<config name>)',
    '  --resume               continue the run in --work-dir from its last checkpoint',
    '  --cfg-options k=v …    override config keys, e.g. schedule.iterations=100',
    '  --backend NAME         auto | wasm | cpu | tensorflow | tensorflow-gpu',
  ].join('\n'),
  async run(rawArgv) {
    const { argv, overrides } = splitCfgOptions(rawArgv);
    const v = parse(argv, {
      ...COMMON,
      'work-dir': { type: 'string' },
      resume: { type: 'boolean' },
    });
    const { config: cfg, hash } = loadConfig(requireString(v.config, 'config'), overrides);
    const workDir =
      (v['work-dir'] as string | undefined) ??
      join('work_dirs', cfg.name ?? basename(String(v.config), '.json'));
    const { lastCheckpoint } = prepareRunDir(workDir, Boolean(v.resume));
    const backend = await selectBackend({
      prefer: (v.backend as BackendName | undefined) ?? 'auto',
    });
    if (!lastCheckpoint) {
      writeJson(join(workDir, 'config.json'), cfg);
      writeJson(join(workDir, 'run.json'), {
        config: String(v.config),
        configHash: hash,
        seed: cfg.runtime.seed,
        gitCommit: gitCommit(),
        backend: describeBackend(backend),
        node: process.version,
        started: new Date().toISOString(),
      });
    }
    const { train: trainSet, val: valSet } = await buildDatasets(cfg);
    const model = buildModel(cfg);
    process.stderr.write(
      `[offseg] ${cfg.model.name}: ${(model.numParams() / 1e6).toFixed(2)} M params; ${trainSet!.length} train / ${valSet!.length} val images; work dir ${workDir}\n`,
    );
    const bar = progressBar(
      cfg.schedule.iterations,
      'train',
      'loss {loss} | lr {lr} | {speed} it/s',
    );
    const result = await train(
      cfg,
      hash,
      workDir,
      {
        model,
        trainSet: trainSet!,
        valSet,
        trainPipeline: trainPipeline(cfg),
        testPipeline: testPipeline(cfg),
        onIteration: (e) =>
          bar.update(e.iteration, {
            loss: e.loss.toFixed(4),
            lr: e.lr.toExponential(2),
            speed: e.itPerSec.toFixed(2),
          }),
        onEval: (it, r) =>
          process.stderr.write(
            `\n[offseg] iteration ${it}: mIoU ${r.reported.mIoU} aAcc ${r.reported.aAcc} mAcc ${r.reported.mAcc}\n`,
          ),
      },
      lastCheckpoint,
    );
    bar.stop();
    exportPth(model, join(workDir, 'final.pth'), {
      config: JSON.stringify(cfg),
      iteration: result.iteration,
    });
    if (result.lastEval) {
      printResult(result.lastEval);
      writeJson(join(workDir, 'final_eval.json'), resultJson(result.lastEval));
    }
    process.stderr.write(
      `[offseg] done: ${join(workDir, 'final.pth')} (PyTorch-loadable weights)\n`,
    );
    return 0;
  },
};

export async function runEval(
  cfg: RunConfig,
  checkpoint: string,
  limit?: number,
): Promise<IoUResult> {
  const { val } = await buildDatasets(cfg, ['val']);
  const model = buildModel(cfg);
  const how = loadWeights(model, checkpoint);
  process.stderr.write(
    `[offseg] ${cfg.model.name} weights from ${checkpoint} (${how}); ${val!.length} images\n`,
  );
  const total = Math.min(val!.length, limit || cfg.data.test.maxImages || Infinity);
  const bar = progressBar(total, 'eval');
  const t = cfg.data.test;
  const r = await evaluate(model, val!, {
    pipeline: testPipeline(cfg),
    inference: {
      mode: t.mode,
      crop: t.crop as [number, number] | undefined,
      stride: t.stride as [number, number] | undefined,
    },
    limit: total,
    onProgress: (d) => bar.update(d),
  });
  bar.stop();
  model.dispose();
  return r;
}

export const evalCommand: Command = {
  summary: "evaluate a checkpoint (.pth official/exported or .ckpt) on a config's validation split",
  help: [
    '  --config FILE          experiment config',
    '  --checkpoint FILE      weights (.pth or .ckpt)',
    '  --json                 print {aAcc, mIoU, mAcc, IoU: {class: value}, …}',
    '  --limit N              score only the first N images',
    '  --out FILE             also write the JSON result to FILE',
    '  --cfg-options k=v …    override config keys',
  ].join('\n'),
  async run(rawArgv) {
    const { argv, overrides } = splitCfgOptions(rawArgv);
    const v = parse(argv, {
      ...COMMON,
      checkpoint: { type: 'string' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      out: { type: 'string' },
    });
    const { config: cfg } = loadConfig(requireString(v.config, 'config'), overrides);
    await selectBackend({ prefer: (v.backend as BackendName | undefined) ?? 'auto', log: !v.json });
    const limit = v.limit === undefined ? undefined : intOption(v.limit, 'limit');
    const r = await runEval(cfg, requireString(v.checkpoint, 'checkpoint'), limit);
    const json = resultJson(r);
    if (v.out) {
      mkdirSync(join(String(v.out), '..'), { recursive: true });
      writeJson(String(v.out), json);
    }
    if (v.json) console.log(JSON.stringify(json));
    else printResult(r);
    return 0;
  },
};
