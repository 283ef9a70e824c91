/** `offseg train` and `offseg eval`. */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { selectBackend, describeBackend, type BackendName } from '../backend/select.ts';
import { loadConfig, type LoadedConfig } from '../config/compose.ts';
import type { RunConfig } from '../config/schema.ts';
import { buildDatasets, buildModel, testPipeline, trainPipeline } from '../train/build.ts';
import { train, type TrainResult } from '../train/loop.ts';
import {
  checkpointName,
  checkRunDir,
  createRunDir,
  gitCommit,
  JsonlLogger,
  writeJson,
} from '../train/run_dir.ts';
import { exportPth, summarizeLoadReport, type LoadReport } from '../io/checkpoint.ts';
import type { WeightLoadOptions } from '../io/load_weights.ts';
import { evaluateCheckpoint } from '../train/evaluate_checkpoint.ts';
import { formatClassTable, formatSummaryTable, type IoUResult } from '../eval/iou_metric.ts';
import type { Segmentor } from '../models/segmentor.ts';
import { parse, requireString, intOption, splitCfgOptions } from './args.ts';
import { UserError } from './errors.ts';
import { progressBar, type Progress } from './progress.ts';
import { handleInterrupts, SIGNAL_EXIT_CODES, type StopSignal } from './interrupt.ts';
import { loadAndReport, weightOptions, WEIGHT_FLAGS, WEIGHT_FLAGS_HELP } from './weight_flags.ts';
import { ENGINE_FLAGS, ENGINE_FLAGS_HELP, openEngine } from './engine_flags.ts';
import type { SegmentationEngine } from '../engine/engine.ts';
import type { Command } from './command.ts';

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

/**
 * Load weights from an official/exported .pth or an offseg-ts training checkpoint (.ckpt) into a
 * model built from a config: every model tensor must load unless `opts` relaxes it (see
 * lib/io/load_weights.ts). Prints and returns the one-line summary.
 */
export function loadWeights(
  model: Segmentor,
  path: string,
  opts: WeightLoadOptions = weightOptions({}, CONFIG_MODEL),
): string {
  return summarizeLoadReport(loadAndReport(model, path, opts));
}

/** How the config names the model, for load errors. */
const CONFIG_MODEL = "the config's model.name and model.numClasses";

/** Print where `data.dataset.dataRoot` came from when an environment variable set it. */
function announceDataRoot(loaded: LoadedConfig): void {
  const env = loaded.dataRootFromEnv;
  if (env) process.stderr.write(`[offseg] dataset folder from ${env.variable}: ${env.value}\n`);
}

export const trainCommand: Command = {
  summary: 'train a model from a config (resumable)',
  help: [
    '  --config FILE          experiment config (configs/…)',
    '  --work-dir DIR         run folder (default work_dirs/<config name>)',
    '  --resume               continue the run in --work-dir from its last checkpoint',
    '  --skip-mismatched      model.init: load the tensors whose shapes fit (fine-tuning to new K)',
    '  --cfg-options k=v …    override config keys, e.g. schedule.iterations=100',
    '  --backend NAME         auto | wasm | cpu | tensorflow | tensorflow-gpu',
    '  Dataset folders: OFFSEG_ADE20K_ROOT, OFFSEG_CITYSCAPES_ROOT, OFFSEG_COCO_STUFF164K_ROOT,',
    '  OFFSEG_PASCAL_CONTEXT59_ROOT replace data.dataset.dataRoot (--cfg-options wins).',
    '  Ctrl-C (SIGINT) or SIGTERM: stops after the current iteration with a checkpoint.',
  ].join('\n'),
  async run(rawArgv) {
    const { argv, overrides } = splitCfgOptions(rawArgv);
    const v = parse(argv, {
      ...COMMON,
      'work-dir': { type: 'string' },
      resume: { type: 'boolean' },
      'skip-mismatched': { type: 'boolean' },
    });
    const configPath = requireString(v.config, 'config');
    const skip = v['skip-mismatched'] ? ['model.init.skipMismatched=true'] : [];
    const loaded = loadConfig(configPath, [...overrides, ...skip], { env: process.env });
    const { config: cfg, hash } = loaded;
    if (skip.length && !cfg.model.init)
      throw new UserError(
        `--skip-mismatched applies to model.init weights, and ${configPath} has none`,
        2,
        'set model.init.checkpoint (--cfg-options model.init.checkpoint=FILE) or drop the flag',
      );
    announceDataRoot(loaded);
    const workDir =
      (v['work-dir'] as string | undefined) ??
      join('work_dirs', cfg.name ?? basename(configPath, '.json'));
    const resume = Boolean(v.resume);
    // Nothing is written to the work dir until the datasets and the model are built.
    const { lastCheckpoint } = checkRunDir(workDir, resume);
    const status: { iteration: number; lastCheckpoint?: string } = { iteration: 0, lastCheckpoint };
    const interrupts = handleInterrupts({ workDir, status: () => status });
    try {
      const backend = await selectBackend({
        prefer: (v.backend as BackendName | undefined) ?? 'auto',
      });
      const { train: trainSet, val: valSet } = await buildDatasets(cfg);
      let init: { report: LoadReport; summary: string } | undefined;
      const model = buildModel(cfg, {
        skipInit: Boolean(lastCheckpoint),
        onInit: (report, summary) => {
          init = { report, summary };
          process.stderr.write(`[offseg] model.init ${cfg.model.init?.checkpoint}: ${summary}\n`);
        },
      });
      interrupts.trainingStarted();
      createRunDir(workDir);
      if (!lastCheckpoint) {
        writeJson(join(workDir, 'config.json'), cfg);
        writeJson(join(workDir, 'run.json'), {
          config: configPath,
          configHash: hash,
          seed: cfg.runtime.seed,
          gitCommit: gitCommit(),
          backend: describeBackend(backend),
          node: process.version,
          started: new Date().toISOString(),
          ...(loaded.dataRootFromEnv ? { dataRootFrom: loaded.dataRootFromEnv.variable } : {}),
          ...(init
            ? { init: initRecord(cfg.model.init?.checkpoint, init.report, init.summary) }
            : {}),
        });
        if (init)
          new JsonlLogger(join(workDir, 'log.jsonl')).log({
            event: 'load',
            ...initRecord(cfg.model.init?.checkpoint, init.report, init.summary),
          });
      }
      process.stderr.write(
        `[offseg] ${cfg.model.name}: ${(model.numParams() / 1e6).toFixed(2)} M params; ${trainSet!.length} train / ${valSet!.length} val images; work dir ${workDir}\n`,
      );
      let bar: Progress | undefined;
      let startAt = 0;
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
          signal: interrupts.signal,
          onResume: (e) => {
            startAt = status.iteration = e.iteration;
            process.stderr.write(
              `[offseg] resuming from ${e.from}: iteration ${e.iteration} of ${e.total}` +
                (e.bestMIoU === null ? '' : `, best mIoU so far ${e.bestMIoU}`) +
                '\n',
            );
          },
          onIteration: (e) => {
            bar ??= progressBar(cfg.schedule.iterations, 'train', TRAIN_FIELDS, { start: startAt });
            bar.update(e.iteration, {
              loss: e.loss.toFixed(4),
              lr: e.lr.toExponential(2),
              speed: e.itPerSec.toFixed(2),
            });
            status.iteration = e.iteration;
            if (e.iteration % cfg.runtime.checkpointInterval === 0 || e.iteration === e.total)
              status.lastCheckpoint = join(workDir, checkpointName(e.iteration));
          },
          onEval: (it, r) =>
            process.stderr.write(
              `\n[offseg] iteration ${it}: mIoU ${r.reported.mIoU} aAcc ${r.reported.aAcc} mAcc ${r.reported.mAcc}\n`,
            ),
        },
        lastCheckpoint,
      );
      bar?.stop();
      if (result.interrupted) return reportInterrupt(result, cfg, configPath, workDir);
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
    } finally {
      interrupts.dispose();
    }
  },
};

const TRAIN_FIELDS = 'loss {loss} | lr {lr} | {speed} it/s';

/** What run.json and log.jsonl keep of a model.init load. */
function initRecord(checkpoint: string | undefined, r: LoadReport, summary: string) {
  return {
    checkpoint,
    weightsKey: r.weightsKey ?? null,
    loaded: r.loaded.length,
    missing: r.missing.length,
    unexpected: r.unexpected.length,
    skipped: r.skipped.map((m) => m.key),
    summary,
  };
}

/** Say where an interrupted run stopped and how to continue it; the shell's exit code. */
function reportInterrupt(
  result: TrainResult,
  cfg: RunConfig,
  configPath: string,
  workDir: string,
): number {
  const sig = result.interrupted as StopSignal;
  const where = `at iteration ${result.iteration} of ${cfg.schedule.iterations}`;
  if (result.lastCheckpoint)
    process.stderr.write(
      `[offseg] interrupted (${sig}) ${where}; last checkpoint ${result.lastCheckpoint}\n` +
        `  continue with: offseg train --config ${configPath} --work-dir ${workDir} --resume\n`,
    );
  else
    process.stderr.write(
      `[offseg] interrupted (${sig}) ${where}, before any step: no checkpoint; run the same command again to start afresh\n`,
    );
  return SIGNAL_EXIT_CODES[sig] ?? 130;
}

/**
 * Evaluate `checkpoint` on the config's validation split (at most `limit` images). `weights`
 * relaxes the load (e.g. `--skip-mismatched`); by default every model tensor must load.
 */
export async function runEval(
  cfg: RunConfig,
  checkpoint: string,
  limit?: number,
  weights: WeightLoadOptions = weightOptions({}, CONFIG_MODEL),
  engineFor?: (model: Segmentor) => Promise<SegmentationEngine>,
): Promise<IoUResult> {
  let bar: Progress | undefined;
  try {
    return await evaluateCheckpoint(cfg, checkpoint, {
      limit,
      weights,
      engineFor,
      log: (line) => process.stderr.write(`[offseg] ${line}\n`),
      onProgress: (done, total) => {
        bar ??= progressBar(total, 'eval');
        bar.update(done);
      },
    });
  } finally {
    bar?.stop();
  }
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
    ...ENGINE_FLAGS_HELP,
    ...WEIGHT_FLAGS_HELP,
    '  Dataset folders: OFFSEG_<DATASET>_ROOT as for train.',
  ].join('\n'),
  async run(rawArgv) {
    const { argv, overrides } = splitCfgOptions(rawArgv);
    const v = parse(argv, {
      ...COMMON,
      checkpoint: { type: 'string' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      out: { type: 'string' },
      ...WEIGHT_FLAGS,
      ...ENGINE_FLAGS,
    });
    const loaded = loadConfig(requireString(v.config, 'config'), overrides, { env: process.env });
    const cfg = loaded.config;
    announceDataRoot(loaded);
    await selectBackend({ prefer: (v.backend as BackendName | undefined) ?? 'auto', log: !v.json });
    const limit = v.limit === undefined ? undefined : intOption(v.limit, 'limit');
    const r = await runEval(
      cfg,
      requireString(v.checkpoint, 'checkpoint'),
      limit,
      weightOptions(v, CONFIG_MODEL),
      (model) => openEngine(v, model, cfg.model.name, 'dynamic'),
    );
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
