/**
 * Dataset folders from the environment, for the CLI as for the notebooks: `OFFSEG_ADE20K_ROOT`,
 * `OFFSEG_CITYSCAPES_ROOT`, `OFFSEG_COCO_STUFF164K_ROOT`, `OFFSEG_PASCAL_CONTEXT59_ROOT`. A set
 * variable replaces the `data.dataset.dataRoot` of a config of that dataset type (configs carry
 * mmseg's relative `data/…` defaults); an explicit `--cfg-options data.dataset.dataRoot=…` wins.
 */

/** The variable naming each benchmark's folder (the built-in dataset needs none). */
export const DATASET_ROOT_ENV = {
  ade20k: 'OFFSEG_ADE20K_ROOT',
  cityscapes: 'OFFSEG_CITYSCAPES_ROOT',
  'coco-stuff164k': 'OFFSEG_COCO_STUFF164K_ROOT',
  'pascal-context59': 'OFFSEG_PASCAL_CONTEXT59_ROOT',
} as const satisfies Record<string, string>;

export interface EnvDataRoot {
  /** The variable that was used, e.g. 'OFFSEG_ADE20K_ROOT'. */
  variable: string;
  /** Its value: the dataset folder. */
  value: string;
}

/**
 * The dataset folder the environment gives a config whose `data.dataset.type` is `type`, unless
 * the command line already sets `data.dataset.dataRoot` (`overrides`, as `key.path=value`).
 */
export function dataRootFromEnv(
  type: unknown,
  overrides: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): EnvDataRoot | undefined {
  if (typeof type !== 'string' || !(type in DATASET_ROOT_ENV)) return undefined;
  if (overrides.some((o) => o.startsWith('data.dataset.dataRoot='))) return undefined;
  const variable = DATASET_ROOT_ENV[type as keyof typeof DATASET_ROOT_ENV];
  const value = env[variable];
  return value ? { variable, value } : undefined;
}
