/**
 * The one schema every experiment config is validated against: unknown
 * keys and wrong types are errors that name the key; the result is a frozen, fully resolved
 * RunConfig that is written into the run folder and every checkpoint.
 */
import { z } from 'zod';

const pair = z.tuple([z.number().int().positive(), z.number().int().positive()]);

const datasetSection = z
  .object({
    type: z.enum(['ade20k', 'cityscapes', 'coco-stuff164k', 'pascal-context59', 'builtin']),
    /** Folder holding the dataset layout; relative paths resolve against the working directory. */
    dataRoot: z.string().optional(),
    trainSplit: z.enum(['train', 'val']).default('train'),
    valSplit: z.enum(['train', 'val']).default('val'),
    reduceZeroLabel: z.boolean().optional(),
    labelMap: z.array(z.tuple([z.number().int(), z.number().int()])).optional(),
    checkLabels: z.boolean().default(true),
    /** Options of the built-in dataset (type 'builtin'). */
    builtin: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  })
  .strict();

const trainPipeline = z
  .object({
    /** RandomResize base scale (long, short) edges, e.g. [2048, 512]. */
    scale: pair,
    ratioRange: z.tuple([z.number().positive(), z.number().positive()]).default([0.5, 2.0]),
    /** RandomCrop size [H, W]. */
    crop: pair,
    catMaxRatio: z.number().min(0).max(1).default(0.75),
    flipProb: z.number().min(0).max(1).default(0.5),
    photometric: z.boolean().default(true),
  })
  .strict();

const lossWeights = z
  .object({ cls: z.number().min(0), mask: z.number().min(0), dice: z.number().min(0) })
  .strict();

/**
 * Mask2Former's set-prediction loss (mmseg `Mask2FormerHead`: `loss_cls`, `loss_mask`,
 * `loss_dice` and its `train_cfg` assigner and point sampling; lib/train/mask2former_loss.ts).
 * Only for a model that brings its own loss (mask2former-*); every other model trains with
 * per-pixel cross-entropy and has no `model.loss`.
 */
const mask2formerLossSection = z
  .object({
    type: z.literal('mask2former'),
    /** Points per mask for matching and for the mask losses (12544 = 112²). */
    numPoints: z.number().int().positive(),
    /** Random candidates per kept point for the uncertainty selection (3). */
    oversample: z.number().min(1),
    /** Share of the points chosen by uncertainty, the rest uniform (0.75). */
    importance: z.number().min(0).max(1),
    /** Class-loss weight of the "no object" class (0.1). */
    noObjectWeight: z.number().min(0),
    /** Weights of the class CE, the point-sampled mask BCE and Dice in the loss (2, 5, 5). */
    weights: lossWeights,
    /** Weights of the same three costs in the Hungarian matching (2, 5, 5). */
    matchWeights: lossWeights,
    /** Dice smoothing ε of the matching cost (1). */
    diceEps: z.number().positive(),
  })
  .strict();

const testSection = z
  .object({
    /** Keep-ratio Resize scale (long, short), e.g. [2048, 512]. */
    scale: pair,
    mode: z.enum(['whole', 'slide']).default('whole'),
    /** Slide window [H, W] and stride [H, W] (mode 'slide'). */
    crop: pair.optional(),
    stride: pair.optional(),
    /** Evaluate at most this many validation images (0 = all). */
    maxImages: z.number().int().min(0).default(0),
  })
  .strict();

export const runConfigSchema = z
  .object({
    /** Free-form experiment name (defaults to the config file's base name). */
    name: z.string().optional(),
    model: z
      .object({
        name: z.string(),
        numClasses: z.number().int().positive(),
        /**
         * Optional initial weights (.pth or .ckpt): a full model or, with `prefix`, a backbone.
         * Loaded as mmengine's `load_checkpoint` does (lib/io/load_weights.ts). The keys after
         * `prefix` are optional without defaults, so configs without them keep their hash.
         */
        init: z
          .object({
            checkpoint: z.string(),
            /** Put every checkpoint key under this prefix (e.g. 'backbone.'). */
            prefix: z.string().default(''),
            /** Keep only checkpoint keys under this prefix and remove it. */
            stripPrefix: z.string().optional(),
            /** mmengine revise_keys: [regex, replacement] pairs; default [['^module\\.', '']]. */
            reviseKeys: z.array(z.tuple([z.string(), z.string()])).optional(),
            /** Load what fits; keys of another shape keep their init (default false). */
            skipMismatched: z.boolean().optional(),
            /** Fraction of the tensors in scope that must load (default 0.5). */
            minLoaded: z.number().gt(0).max(1).optional(),
          })
          .strict()
          .optional(),
        /** The model's own training loss (optional, no default: configs without it keep their hash). */
        loss: mask2formerLossSection.optional(),
      })
      .strict(),
    data: z
      .object({
        dataset: datasetSection,
        train: trainPipeline,
        test: testSection,
        /** Images per optimisation step (all GPUs together in the paper: 16). */
        batchSize: z.number().int().positive(),
        /** Micro-batches per step (gradient accumulation), batchSize % accumulate == 0. */
        accumulate: z.number().int().positive().default(1),
      })
      .strict(),
    optimizer: z
      .object({
        type: z.literal('AdamW'),
        lr: z.number().positive(),
        betas: z.tuple([z.number(), z.number()]).default([0.9, 0.999]),
        weightDecay: z.number().min(0),
        eps: z.number().positive().default(1e-8),
        /** mmengine paramwise custom_keys: substring → multipliers (longest key first). */
        customKeys: z
          .record(
            z.string(),
            z.object({ lrMult: z.number().optional(), decayMult: z.number().optional() }).strict(),
          )
          .default({}),
        /**
         * mmengine OptimWrapper `clip_grad`: scale all gradients together so that their global
         * L2 norm is at most `maxNorm` (torch `clip_grad_norm_`). Optional, no default.
         */
        clipGrad: z
          .object({ maxNorm: z.number().positive(), normType: z.literal(2).default(2) })
          .strict()
          .optional(),
      })
      .strict(),
    schedule: z
      .object({
        iterations: z.number().int().positive(),
        warmupIters: z.number().int().min(0).default(1500),
        warmupFactor: z.number().positive().default(1e-6),
        /** PolyLR end (defaults to iterations). */
        polyEnd: z.number().int().positive().optional(),
        power: z.number().positive().default(1.0),
        etaMin: z.number().min(0).default(0),
      })
      .strict(),
    runtime: z
      .object({
        seed: z.number().int().min(0).default(0),
        logInterval: z.number().int().positive().default(50),
        evalInterval: z.number().int().positive().default(16000),
        checkpointInterval: z.number().int().positive().default(16000),
        /** Keep only the newest N interval checkpoints (0 = all). */
        keepCheckpoints: z.number().int().min(0).default(2),
        /**
         * Recompute activations in the backward pass instead of keeping them (same gradients,
         * ≈ 15–20× less taped memory, one extra forward): needed for 512² crops on WASM.
         */
        gradCheckpoint: z.boolean().optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.data.batchSize % c.data.accumulate !== 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['data', 'accumulate'],
        message: `batchSize ${c.data.batchSize} is not divisible by accumulate ${c.data.accumulate}`,
      });
    }
    if (c.data.test.mode === 'slide' && (!c.data.test.crop || !c.data.test.stride)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['data', 'test'],
        message: "mode 'slide' needs crop and stride",
      });
    }
  });

export type RunConfigInput = z.input<typeof runConfigSchema>;
export type RunConfig = Readonly<z.output<typeof runConfigSchema>>;
