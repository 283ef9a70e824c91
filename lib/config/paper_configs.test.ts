/**
 * The configs of every trained cell of the paper's Tables 2–4 (lib/config/paper_experiments.ts):
 * each one resolves to its host recipe (the table below, written from the upstream files, not
 * from our JSON), each +OL config differs from its baseline only in the head (plus the two
 * documented upstream differences), each builds its datasets and both pipelines on a tiny
 * fixture in the dataset's layout, and the family READMEs print the catalogue.
 *
 * Model construction: every config's model name must be registered and its class count must
 * equal its dataset's; five configs (the smallest variant of each family and classifier, covering
 * every class count and both test modes) build their model and predict through their test mode.
 * Every registered variant, B5 and SegNeXt-B included, is built with shapes and parameter counts
 * by lib/models/{segformer,segnext}.test.ts and the OffSeg tests; building the 21 models again
 * here would add minutes (SegFormer-B5 alone takes ~11 s on 2 cores) for no new failure mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../test/helpers/parity.ts';
import { loadConfig } from './compose.ts';
import type { RunConfig } from './schema.ts';
import { experimentsOf, PAPER_EXPERIMENTS, type PaperExperiment } from './paper_experiments.ts';
import type { BenchmarkName } from '../data/metainfo.ts';
import { REDUCE_ZERO_LABEL } from '../data/datasets.ts';
import { SegDataLoader, iterateTest } from '../data/loader.ts';
import { rescaleSize } from '../data/transforms/geometric.ts';
import { tempDir, writeImage, writeLabel } from '../data/testing.ts';
import { predictLogits } from '../eval/inference.ts';
import { listModels } from '../models/registry.ts';
import {
  buildDatasets,
  buildModel,
  testInference,
  testPipeline,
  trainPipeline,
} from '../train/build.ts';
import { checkpointEnv, type Benchmark } from '../report/released.ts';
import { TABLE2, TABLE3, TABLE4 } from '../report/paper.ts';

await useBackend('wasm');

type Pair = [number, number];

// ---------------------------------------------------------------------------------------------
// The host recipes.

/** mmseg configs/_base_/datasets/{ade20k,cityscapes_1024x1024,coco-stuff164k,pascal_context_59}.py */
const DATA: Record<
  BenchmarkName,
  { numClasses: number; dataRoot: string; reduceZeroLabel: boolean; scale: Pair; crop: Pair }
> = {
  ade20k: {
    numClasses: 150,
    dataRoot: 'data/ade/ADEChallengeData2016',
    reduceZeroLabel: true,
    scale: [2048, 512],
    crop: [512, 512],
  },
  cityscapes: {
    numClasses: 19,
    dataRoot: 'data/cityscapes',
    reduceZeroLabel: false,
    scale: [2048, 1024],
    crop: [1024, 1024],
  },
  'coco-stuff164k': {
    numClasses: 171,
    dataRoot: 'data/coco_stuff164k',
    reduceZeroLabel: false,
    scale: [2048, 512],
    crop: [512, 512],
  },
  'pascal-context59': {
    numClasses: 59,
    dataRoot: 'data/VOCdevkit/VOC2010',
    reduceZeroLabel: true,
    scale: [520, 520],
    crop: [480, 480],
  },
};

/**
 * optim_wrapper and param_scheduler, identical in every host config (mmseg segformer/segnext,
 * OffSeg local_configs): AdamW 6e-5, wd 0.01, custom_keys, LinearLR 1500 × 1e-6 → PolyLR 1.0 → 0.
 */
const OPTIMIZER = {
  type: 'AdamW',
  lr: 6e-5,
  betas: [0.9, 0.999],
  weightDecay: 0.01,
  eps: 1e-8,
  customKeys: { pos_block: { decayMult: 0 }, norm: { decayMult: 0 }, head: { lrMult: 10 } },
};
const SCHEDULE = { warmupIters: 1500, warmupFactor: 1e-6, power: 1, etaMin: 0 };

type TestCfg = { mode: 'whole' } | { mode: 'slide'; crop: Pair; stride: Pair };
const WHOLE: TestCfg = { mode: 'whole' };
const SLIDE_512: TestCfg = { mode: 'slide', crop: [512, 512], stride: [480, 480] };
const SLIDE_1024: TestCfg = { mode: 'slide', crop: [1024, 1024], stride: [768, 768] };
const SLIDE_480: TestCfg = { mode: 'slide', crop: [480, 480], stride: [320, 320] };

interface Cell {
  /** Total batch (GPUs × per-GPU batch_size). */
  batch: number;
  /** Images per forward pass (batch / accumulate): the 8-GPU configs' per-GPU batch. */
  micro: number;
  iterations: number;
  /** PolyLR `end`. */
  polyEnd: number;
  /** val_interval = CheckpointHook interval. */
  interval: number;
  test: TestCfg;
}

const c160 = { iterations: 160000, polyEnd: 160000, interval: 16000 };
const c80 = { iterations: 80000, polyEnd: 80000, interval: 8000 };
const B16 = { batch: 16, micro: 2 };
const B8 = { batch: 8, micro: 1 };

/** One row per upstream recipe: which registry names on which dataset, and its values. */
const HOST: [RegExp, BenchmarkName, Cell][] = [
  // OffSeg local_configs/offseg/{Tiny,Base,Large}/
  [/^offseg-[tbl]$/, 'ade20k', { ...B16, ...c160, test: SLIDE_512 }],
  [/^offseg-[tbl]$/, 'cityscapes', { ...B8, ...c160, test: SLIDE_1024 }],
  [/^offseg-[tl]$/, 'coco-stuff164k', { ...B16, ...c160, polyEnd: 80000, test: SLIDE_512 }],
  [/^offseg-b$/, 'coco-stuff164k', { ...B16, ...c80, test: SLIDE_512 }],
  // mmseg segnext_mscan-{t,s,b}_1xb16-adamw-160k_ade20k-512x512.py (whole, size_divisor 32)
  [/^segnext-[tsb]$/, 'ade20k', { ...B16, ...c160, test: WHOLE }],
  // OffSeg segnext_mscan-*_offset_learning_*.py; the baselines take the same recipe
  [/^segnext-[tsb]-ol$/, 'ade20k', { ...B16, ...c160, test: WHOLE }],
  [/^segnext-t(-ol)?$/, 'cityscapes', { ...B8, ...c160, test: SLIDE_1024 }],
  [/^segnext-[sb](-ol)?$/, 'cityscapes', { ...B16, ...c160, test: SLIDE_1024 }],
  [/^segnext-[tsb](-ol)?$/, 'pascal-context59', { ...B16, ...c80, test: SLIDE_480 }],
  [/^segnext-[tsb]$/, 'coco-stuff164k', { ...B16, ...c80, test: WHOLE }],
  [/^segnext-[tsb]-ol$/, 'coco-stuff164k', { ...B16, ...c160, polyEnd: 80000, test: WHOLE }],
  // mmseg segformer_mit-b*_8xb2-160k_ade20k-512x512.py (whole); OffSeg segformer_offset_learning
  [/^segformer-b[0-5]$/, 'ade20k', { ...B16, ...c160, test: WHOLE }],
  [/^segformer-b[0-5]-ol$/, 'ade20k', { ...B16, ...c160, test: SLIDE_512 }],
  [/^segformer-b[0-5]$/, 'coco-stuff164k', { ...B16, ...c80, test: WHOLE }],
  [/^segformer-b[0-5]-ol$/, 'coco-stuff164k', { ...B16, ...c80, test: SLIDE_512 }],
];

function hostCell(e: { model: string; dataset: BenchmarkName }): Cell {
  const rows = HOST.filter(([re, d]) => re.test(e.model) && d === e.dataset);
  assert.equal(rows.length, 1, `${e.model} on ${e.dataset}: ${rows.length} host recipe rows`);
  return rows[0][2];
}

/** Every resolved value that matters, compared with the host recipe; one message per mismatch. */
function recipeMismatches(c: RunConfig, e: PaperExperiment): string[] {
  const d = DATA[e.dataset];
  const cell = hostCell(e);
  const test: Record<string, unknown> =
    cell.test.mode === 'slide'
      ? { scale: d.scale, ...cell.test }
      : { scale: d.scale, mode: 'whole', crop: undefined, stride: undefined };
  const want: [string, unknown, unknown][] = [
    ['model.name', c.model.name, e.model],
    ['model.numClasses', c.model.numClasses, d.numClasses],
    ['data.dataset.type', c.data.dataset.type, e.dataset],
    ['data.dataset.dataRoot', c.data.dataset.dataRoot, d.dataRoot],
    [
      'data.dataset.reduceZeroLabel',
      c.data.dataset.reduceZeroLabel ?? REDUCE_ZERO_LABEL[c.data.dataset.type],
      d.reduceZeroLabel,
    ],
    ['data.dataset.labelMap', c.data.dataset.labelMap, undefined],
    ['data.train.scale', c.data.train.scale, d.scale],
    ['data.train.ratioRange', c.data.train.ratioRange, [0.5, 2]],
    ['data.train.crop', c.data.train.crop, d.crop],
    ['data.train.catMaxRatio', c.data.train.catMaxRatio, 0.75],
    ['data.train.flipProb', c.data.train.flipProb, 0.5],
    ['data.train.photometric', c.data.train.photometric, true],
    ...Object.entries(test).map(
      ([k, v]) =>
        [`data.test.${k}`, (c.data.test as Record<string, unknown>)[k], v] as [
          string,
          unknown,
          unknown,
        ],
    ),
    ['data.batchSize', c.data.batchSize, cell.batch],
    ['data.batchSize / data.accumulate', c.data.batchSize / c.data.accumulate, cell.micro],
    ...Object.entries(OPTIMIZER).map(
      ([k, v]) =>
        [`optimizer.${k}`, (c.optimizer as Record<string, unknown>)[k], v] as [
          string,
          unknown,
          unknown,
        ],
    ),
    ['schedule.iterations', c.schedule.iterations, cell.iterations],
    ['schedule.polyEnd', c.schedule.polyEnd ?? c.schedule.iterations, cell.polyEnd],
    ...Object.entries(SCHEDULE).map(
      ([k, v]) =>
        [`schedule.${k}`, (c.schedule as Record<string, unknown>)[k], v] as [
          string,
          unknown,
          unknown,
        ],
    ),
    ['runtime.evalInterval', c.runtime.evalInterval, cell.interval],
    ['runtime.checkpointInterval', c.runtime.checkpointInterval, cell.interval],
    ['model.init', c.model.init, undefined],
  ];
  const out: string[] = [];
  for (const [key, got, expected] of want) {
    try {
      assert.deepStrictEqual(got, expected);
    } catch {
      out.push(
        `${e.config}: ${key} is ${JSON.stringify(got)}, host recipe ${JSON.stringify(expected)}`,
      );
    }
  }
  return out;
}

/** The keys named by recipeMismatches' messages. */
function keysOf(messages: string[]): string[] {
  return messages.map((m) => m.slice(m.indexOf(': ') + 2, m.indexOf(' is ')));
}

function load(e: PaperExperiment, overrides: string[] = []): RunConfig {
  return loadConfig(e.config, overrides).config;
}

function find(config: string): PaperExperiment {
  const e = PAPER_EXPERIMENTS.find((x) => x.config === config);
  assert.ok(e, `${config} is not in the catalogue`);
  return e;
}

// ---------------------------------------------------------------------------------------------
// The catalogue: every trained cell, nothing else.

const DATASET_PART: Record<BenchmarkName, string> = {
  ade20k: 'ade20k',
  cityscapes: 'cityscapes',
  'coco-stuff164k': 'coco-stuff164k',
  'pascal-context59': 'pascal-context59',
};

test('every trained cell of Tables 2–4 has one config, and the family folders hold no other', () => {
  const cells = [
    ...['t', 'b', 'l'].flatMap((v) =>
      (['ade20k', 'cityscapes', 'coco-stuff164k'] as const).map((d) => `offseg-${v} ${d}`),
    ),
    ...['t', 's', 'b'].flatMap((v) =>
      ['', '-ol'].flatMap((ol) =>
        (['ade20k', 'cityscapes', 'pascal-context59', 'coco-stuff164k'] as const).map(
          (d) => `segnext-${v}${ol} ${d}`,
        ),
      ),
    ),
    ...['b0', 'b1', 'b2', 'b3', 'b4', 'b5'].flatMap((v) =>
      ['', '-ol'].flatMap((ol) =>
        (['ade20k', 'coco-stuff164k'] as const).map((d) => `segformer-${v}${ol} ${d}`),
      ),
    ),
  ];
  assert.equal(cells.length, 57);
  assert.deepEqual(PAPER_EXPERIMENTS.map((e) => `${e.model} ${e.dataset}`).sort(), cells.sort());
  const onDisk = ['offseg', 'segnext', 'segformer'].flatMap((f) =>
    readdirSync(join('configs', f))
      .filter((n) => n.endsWith('.json'))
      .map((n) => `configs/${f}/${n}`),
  );
  assert.deepEqual(onDisk.sort(), PAPER_EXPERIMENTS.map((e) => e.config).sort());
  const models = new Set(listModels());
  for (const e of PAPER_EXPERIMENTS) {
    assert.ok(models.has(e.model), `${e.model} is not a registered model`);
    // the file name spells model, dataset, crop and schedule length
    const c = load(e);
    const name = `${c.model.name}_${DATASET_PART[e.dataset]}-${c.data.train.crop[0]}_${c.schedule.iterations / 1000}k.json`;
    assert.equal(e.config, `configs/${e.family}/${name}`);
  }
});

test('the catalogue quotes the same mIoU as lib/report/paper.ts wherever both have the cell', () => {
  const seen = { 2: 0, 3: 0, 4: 0 };
  for (const e of PAPER_EXPERIMENTS) {
    let quoted: number | undefined;
    if (e.table === 2) {
      const row = TABLE2[e.model as keyof typeof TABLE2];
      quoted = {
        ade20k: row.adeMIoU,
        cityscapes: row.csMIoU,
        'coco-stuff164k': row.cocoMIoU,
        'pascal-context59': undefined,
      }[e.dataset];
    } else if (e.dataset === 'ade20k') {
      const t: Record<string, { adeMIoU: number }> = e.table === 3 ? TABLE3 : TABLE4;
      quoted = t[e.model].adeMIoU;
    }
    if (quoted === undefined) continue;
    assert.equal(e.quotedMIoU, quoted, `${e.config}`);
    seen[e.table]++;
  }
  assert.deepEqual(seen, { 2: 9, 3: 6, 4: 12 });
});

// ---------------------------------------------------------------------------------------------
// Recipes.

test('every paper config resolves to its host recipe', () => {
  const bad = PAPER_EXPERIMENTS.flatMap((e) => recipeMismatches(load(e), e));
  assert.deepEqual(bad, []);
});

test('the recipe check fails on a mutated value, a wrong _base_ and a typo', () => {
  const e = find('configs/segnext/segnext-s_cityscapes-1024_160k.json');
  const mutations: [string, string[]][] = [
    ['data.train.crop=[512,512]', ['data.train.crop']],
    ['data.test.stride=[1024,1024]', ['data.test.stride']],
    ['data.test.mode=whole', ['data.test.mode']],
    ['data.batchSize=8', ['data.batchSize', 'data.batchSize / data.accumulate']],
    ['data.accumulate=16', ['data.batchSize / data.accumulate']],
    ['optimizer.lr=0.0006', ['optimizer.lr']],
    ['optimizer.weightDecay=0.05', ['optimizer.weightDecay']],
    ['optimizer.customKeys.head.lrMult=1', ['optimizer.customKeys']],
    ['optimizer.customKeys.norm.decayMult=1', ['optimizer.customKeys']],
    ['schedule.iterations=80000', ['schedule.iterations', 'schedule.polyEnd']],
    ['schedule.polyEnd=80000', ['schedule.polyEnd']],
    ['schedule.warmupIters=0', ['schedule.warmupIters']],
    ['runtime.evalInterval=8000', ['runtime.evalInterval']],
    ['model.name=segnext-s-ol', ['model.name']],
  ];
  assert.deepEqual(recipeMismatches(load(e), e), []);
  for (const [override, keys] of mutations)
    assert.deepEqual(keysOf(recipeMismatches(load(e, [override]), e)), keys, override);
  // A leaf naming the wrong dataset or schedule base.
  const dir = tempDir('offseg-cfg-');
  const cwd = process.cwd();
  const wrong = (bases: string[], extra: object = {}) => {
    const f = join(dir, `wrong-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(
      f,
      JSON.stringify({ _base_: bases.map((b) => join(cwd, 'configs/_base_', b)), ...extra }),
    );
    return loadConfig(f).config;
  };
  const coco = find('configs/segformer/segformer-b0_coco-stuff164k-512_80k.json');
  const whole = { data: { test: { _delete_: true, scale: [2048, 512], mode: 'whole' } } };
  const ok = [
    'models/segformer-b0.json',
    'datasets/coco-stuff164k.json',
    'schedules/schedule_80k.json',
    'default_runtime.json',
  ];
  assert.deepEqual(recipeMismatches(wrong(ok, whole), coco), []);
  const swap = (i: number, b: string) => ok.map((x, j) => (j === i ? b : x));
  assert.deepEqual(
    keysOf(recipeMismatches(wrong(swap(2, 'schedules/schedule_160k.json'), whole), coco)),
    [
      'schedule.iterations',
      'schedule.polyEnd',
      'runtime.evalInterval',
      'runtime.checkpointInterval',
    ],
  );
  assert.deepEqual(keysOf(recipeMismatches(wrong(swap(1, 'datasets/ade20k.json'), whole), coco)), [
    'model.numClasses',
    'data.dataset.type',
    'data.dataset.dataRoot',
    'data.dataset.reduceZeroLabel',
  ]);
  // without the whole-image block the dataset base's slide test leaks through
  assert.deepEqual(keysOf(recipeMismatches(wrong(ok), coco)), [
    'data.test.mode',
    'data.test.crop',
    'data.test.stride',
  ]);
  // a misspelt model name is not in the registry
  assert.ok(!listModels().includes(load(e, ['model.name=segnxt-s']).model.name));
});

/** Paths of a JSON value whose leaves differ between a and b. */
function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diffPaths(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

test('each +OL config differs from its baseline only in the head, and in the documented upstream differences', () => {
  const ols = PAPER_EXPERIMENTS.filter((e) => e.model.endsWith('-ol'));
  assert.equal(ols.length, 24);
  for (const ol of ols) {
    const base = PAPER_EXPERIMENTS.find(
      (e) => e.model === ol.model.slice(0, -3) && e.dataset === ol.dataset,
    );
    assert.ok(base, `no baseline for ${ol.config}`);
    const { name: _a, ...a } = load(base);
    const { name: _b, ...b } = load(ol);
    const expected = ['model.name'];
    // SegFormer: mmseg tests whole images, the OffSeg +OL release slides 512/480.
    if (ol.family === 'segformer')
      expected.push('data.test.mode', 'data.test.crop', 'data.test.stride');
    // SegNeXt COCO-Stuff: the +OL release runs 160k iterations with the LR ending at 80k.
    if (ol.family === 'segnext' && ol.dataset === 'coco-stuff164k')
      expected.push(
        'schedule.iterations',
        'schedule.polyEnd',
        'runtime.evalInterval',
        'runtime.checkpointInterval',
      );
    assert.deepEqual(diffPaths(a, b).sort(), expected.sort(), `${base.config} vs ${ol.config}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Datasets, pipelines and models on tiny fixtures in each dataset's layout.

const FW = 48;
const FH = 32;

/** One train and one val image per dataset, in mmseg's on-disk layout; labels span the ids. */
async function fixture(dataset: BenchmarkName, root: string): Promise<void> {
  const label = (maxId: number) => Array.from({ length: FW * FH }, (_, i) => i % (maxId + 1));
  const pair = async (img: string, seg: string, maxId: number, seed: number) => {
    await writeImage(join(root, img), FW, FH, seed);
    writeLabel(join(root, seg), label(maxId), FW, FH);
  };
  if (dataset === 'ade20k') {
    await pair(
      'images/training/ADE_train_00000001.jpg',
      'annotations/training/ADE_train_00000001.png',
      150,
      1,
    );
    await pair(
      'images/validation/ADE_val_00000001.jpg',
      'annotations/validation/ADE_val_00000001.png',
      150,
      2,
    );
  } else if (dataset === 'cityscapes') {
    for (const [split, city] of [
      ['train', 'aachen'],
      ['val', 'lindau'],
    ]) {
      const b = `${split}/${city}/${city}_000000_000019`;
      await pair(`leftImg8bit/${b}_leftImg8bit.png`, `gtFine/${b}_gtFine_labelTrainIds.png`, 18, 3);
    }
  } else if (dataset === 'coco-stuff164k') {
    for (const split of ['train2017', 'val2017'])
      await pair(
        `images/${split}/000000000139.jpg`,
        `annotations/${split}/000000000139_labelTrainIds.png`,
        170,
        4,
      );
  } else {
    await pair('JPEGImages/2008_000002.jpg', 'SegmentationClassContext/2008_000002.png', 59, 5);
    await pair('JPEGImages/2008_000008.jpg', 'SegmentationClassContext/2008_000008.png', 59, 6);
    mkdirSync(join(root, 'ImageSets/SegmentationContext'), { recursive: true });
    writeFileSync(join(root, 'ImageSets/SegmentationContext/train.txt'), '2008_000002\n');
    writeFileSync(join(root, 'ImageSets/SegmentationContext/val.txt'), '2008_000008\n');
  }
}

/**
 * Configs whose model is built and run: the smallest variant of each family and classifier, on
 * datasets chosen so that every class count, whole-image testing and each slide window occur.
 */
const BUILT = new Set([
  'configs/offseg/offseg-t_cityscapes-1024_160k.json', // slide 1024/768, K 19
  'configs/segformer/segformer-b0_ade20k-512_160k.json', // whole, K 150
  'configs/segformer/segformer-b0-ol_coco-stuff164k-512_80k.json', // slide 512/480, K 171
  'configs/segnext/segnext-t_pascal-context59-480_80k.json', // slide 480/320, K 59
  'configs/segnext/segnext-t-ol_coco-stuff164k-512_160k.json', // whole, K 171
]);

test('every config builds its datasets and both pipelines on a tiny fixture; five build their model and predict through the test mode', async () => {
  const roots = {} as Record<BenchmarkName, string>;
  for (const d of Object.keys(DATA) as BenchmarkName[]) {
    roots[d] = join(tempDir('offseg-paper-'), d);
    await fixture(d, roots[d]);
  }
  // identical pipeline settings give identical samples: run each distinct one once
  const trainRuns = new Map<string, number>();
  const testRuns = new Map<string, number>();
  let built = 0;
  for (const e of PAPER_EXPERIMENTS) {
    const c = load(e, [`data.dataset.dataRoot=${roots[e.dataset]}`]);
    const { train, val } = await buildDatasets(c); // also checks numClasses against the dataset
    assert.equal(train!.numClasses, DATA[e.dataset].numClasses);
    assert.equal(train!.reduceZeroLabel, DATA[e.dataset].reduceZeroLabel, e.config);
    const tp = trainPipeline(c);
    const key = JSON.stringify([e.dataset, tp]);
    if (!trainRuns.has(key)) {
      const loader = new SegDataLoader(train!, {
        batchSize: 1,
        seed: 0,
        pipeline: tp,
        prefetch: false,
      });
      const b = await loader.nextHost();
      assert.deepEqual([b.height, b.width], [...c.data.train.crop], e.config);
      assert.equal(b.images.length, c.data.train.crop[0] * c.data.train.crop[1] * 3);
      assert.ok(b.images.every(Number.isFinite));
      assert.ok(b.labels.every((v) => v === 255 || (v >= 0 && v < c.model.numClasses)));
      assert.ok(
        b.labels.some((v) => v !== 255),
        `${e.config}: the crop holds no labelled pixel`,
      );
      trainRuns.set(key, b.labels.filter((v) => v !== 255).length);
    }
    const sp = testPipeline(c);
    const tkey = JSON.stringify([e.dataset, sp]);
    const needModel = BUILT.has(e.config);
    if (!testRuns.has(tkey) || needModel) {
      const it = iterateTest(val!, sp, { limit: 1, prefetch: false });
      const s = (await it.next()).value!;
      const [w, h] = rescaleSize(FW, FH, c.data.test.scale);
      assert.deepEqual([s.width, s.height, s.oriWidth, s.oriHeight], [w, h, FW, FH], e.config);
      testRuns.set(tkey, w * h);
      if (needModel) {
        // a 64² window of the test image through the config's whole/slide inference
        const model = buildModel(c);
        model.eval();
        const logits = tf.tidy(() => {
          const img = tf.tensor4d(s.image, [1, s.height, s.width, 3]);
          const x = tf.slice(img, [0, 0, 0, 0], [1, 64, 64, 3]) as tf.Tensor4D;
          return predictLogits(model, x, [40, 56], testInference(c));
        });
        assert.deepEqual(logits.shape, [1, 40, 56, c.model.numClasses], e.config);
        assert.ok(Number.isFinite(tf.sum(logits).dataSync()[0]), e.config);
        logits.dispose();
        model.dispose();
        built++;
      }
    }
  }
  assert.equal(trainRuns.size, 4); // one train pipeline per dataset
  assert.equal(testRuns.size, 4);
  assert.equal(built, BUILT.size);
});

// ---------------------------------------------------------------------------------------------
// The family READMEs.

const DATASET_LABEL: Record<BenchmarkName, string> = {
  ade20k: 'ADE20K',
  cityscapes: 'Cityscapes',
  'coco-stuff164k': 'COCO-Stuff-164K',
  'pascal-context59': 'Pascal Context-59',
};

test('each family README lists its configs with table row, quoted mIoU, checkpoint variable and upstream file', () => {
  for (const family of ['offseg', 'segnext', 'segformer'] as const) {
    const text = readFileSync(join('configs', family, 'README.md'), 'utf8');
    const rows = text.split('\n').filter((l) => /^\| \[`[^`]+\.json`\]/.test(l));
    const exps = experimentsOf(family);
    assert.equal(rows.length, exps.length, `${family}: ${rows.length} config rows`);
    for (const e of exps) {
      const file = e.config.split('/').pop()!;
      const row = rows.find((r) => r.startsWith(`| [\`${file}\`](${file}) |`));
      assert.ok(row, `${family}/README.md has no row for ${file}`);
      const cells = row.split(' | ').map((s) => s.replace(/^\| |\|$/g, '').trim());
      assert.equal(cells[1], `Table ${e.table}, ${e.row}, ${DATASET_LABEL[e.dataset]}`, file);
      assert.equal(cells[2], e.quotedMIoU.toFixed(1), file);
      const env =
        e.dataset === 'pascal-context59'
          ? '—'
          : `\`${checkpointEnv(e.model, e.dataset as Benchmark)}\``;
      assert.equal(cells[3], env, file);
      const upstreamFile = e.upstream.split(' ')[1].split('/').pop()!;
      assert.ok(cells[4].includes(upstreamFile), `${file}: recipe cell lacks ${upstreamFile}`);
    }
  }
});
