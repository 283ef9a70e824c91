/**
 * The proxy study's protocol: configs/proxy/protocol.json (version, regime, gate, seeds, quick
 * overrides) and the two configs it composes, pretrain.json and finetune.json, resolved into
 * RunConfigs with the hashes that key their caches. configs/proxy/README.md explains the choices.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../config/compose.ts';
import type { RunConfig } from '../../config/schema.ts';
import { repoRoot } from '../../paths.ts';
import { envFlag } from '../../env.ts';

/** Contents of configs/proxy/protocol.json. */
export interface Protocol {
  version: number;
  /** Train only the head on a frozen backbone (false: fine-tune everything, as the paper). */
  freezeBackbone: boolean;
  /** Minimum val mIoU of the full-mode pretraining before any variant is trained. */
  pretrainGate: number;
  /** Base seeds per mode; `extra` are added to both variants of a claim within two std. */
  seeds: { full: number[]; quick: number[]; extra: number[] };
  quick: { pretrain: string[]; finetune: string[] };
}

/** Key prefix of the backbone inside a full model's state dict. */
export const BACKBONE_PREFIX = 'backbone.';

/** OFFSEG_QUICK=1: tiny schedules that prove the pipeline runs (numbers mean nothing). */
export function isQuickMode(): boolean {
  return envFlag('OFFSEG_QUICK');
}

/** OFFSEG_SKIP_TRAIN=1: use cached runs only; anything not cached is reported as not run. */
export function skipTrain(): boolean {
  return envFlag('OFFSEG_SKIP_TRAIN');
}

/** 'quick' when asked (or, when not said, under OFFSEG_QUICK=1), else 'full'. */
export function modeOf(quick: boolean | undefined): 'quick' | 'full' {
  return (quick ?? isQuickMode()) ? 'quick' : 'full';
}

/** configs/proxy/protocol.json of this checkout, read on each call. */
export function proxyProtocol(): Protocol {
  return JSON.parse(
    readFileSync(join(repoRoot(), 'configs', 'proxy', 'protocol.json'), 'utf8'),
  ) as Protocol;
}

/** The seeds a notebook should run in this mode (3 in full mode, 1 in quick mode). */
export function proxySeeds(quick?: boolean): number[] {
  return proxyProtocol().seeds[modeOf(quick)];
}

/** First 12 hex digits of the SHA-256 of a JSON value. */
export function shortHash(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 12);
}

/** The resolved pretraining config and its hash (protocol version and mode included). */
export function pretrainConfig(quick?: boolean): { config: RunConfig; hash: string } {
  const mode = modeOf(quick);
  const p = proxyProtocol();
  const file = join(repoRoot(), 'configs', 'proxy', 'pretrain.json');
  const { config } = loadConfig(file, mode === 'quick' ? p.quick.pretrain : []);
  return { config, hash: shortHash({ config, version: p.version }) };
}

/** The resolved fine-tuning config of one variant and seed, and its hash. */
export function finetuneConfig(
  model: string,
  seed: number,
  backbonePath: string,
  quick?: boolean,
): { config: RunConfig; hash: string } {
  const mode = modeOf(quick);
  const p = proxyProtocol();
  const file = join(repoRoot(), 'configs', 'proxy', 'finetune.json');
  const overrides = [
    `model.name=${model}`,
    `runtime.seed=${seed}`,
    // The backbone file name carries the pretraining hash, so the fine-tuning hash follows it.
    `model.init={"checkpoint":${JSON.stringify(backbonePath)},"prefix":"${BACKBONE_PREFIX}"}`,
    ...(mode === 'quick' ? p.quick.finetune : []),
  ];
  const { config } = loadConfig(file, overrides);
  const hashed = { ...config, model: { ...config.model, init: { prefix: BACKBONE_PREFIX } } };
  return {
    config,
    hash: shortHash({
      config: hashed,
      backbone: backbonePath.match(/([0-9a-f]{12})\.pth$/)?.[1],
      freeze: p.freezeBackbone,
      version: p.version,
    }),
  };
}

/** Where the pretrained backbone of this mode is cached (its name carries the config hash). */
export function backbonePath(quick?: boolean, root = repoRoot()): string {
  const { hash } = pretrainConfig(quick);
  return join(root, '.cache', 'proxy', `effv2-s1-builtin-${modeOf(quick)}-${hash}.pth`);
}
