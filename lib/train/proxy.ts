/**
 * Proxy experiments (Tables 6 and 7, Figs. 3 and 5): the paper's ablations trained on the
 * built-in dataset instead of ADE20K, small enough for a 2-core machine. The protocol lives in
 * configs/proxy/ (its README explains and measures it):
 *   1. once: "pretrain" an EfficientFormerV2-S1 backbone on a differently-seeded built-in set
 *      (stands in for the paper's ImageNet initialisation), exported as a backbone-only .pth
 *      under .cache/proxy/, keyed by its config hash; below the protocol's `pretrainGate` (full
 *      mode) the study stops with ProxyGateError;
 *   2. per (variant, seed): initialise the backbone from it and fine-tune the whole network
 *      (or only the head when the protocol sets `freezeBackbone`) with the shared training loop
 *      in work_dirs/proxy/<model>-s<seed>-<hash>/, then evaluate on the val split.
 * Finished runs are cached as results/proxy/runs/<model>-s<seed>-<quick|full>.json and reused
 * while the config hash matches; interrupted runs resume from their last checkpoint.
 *
 * Where each piece lives: proxy/protocol.ts (protocol file, configs, hashes), proxy/runs.ts
 * (pretraining and fine-tuning runs), proxy/gate.ts (go/no-go gate), proxy/results.ts (result
 * records), proxy/frozen_backbone.ts (the frozen regime), proxy_study.ts (seeds and claims),
 * lib/report/proxy_protocol.ts (the protocol as Markdown).
 */
export {
  BACKBONE_PREFIX,
  backbonePath,
  finetuneConfig,
  isQuickMode,
  pretrainConfig,
  proxyProtocol,
  proxySeeds,
  type Protocol,
} from './proxy/protocol.ts';
export { FrozenBackbone } from './proxy/frozen_backbone.ts';
export { ProxyGateError } from './proxy/gate.ts';
export {
  buildProxyModel,
  ensurePretrainedBackbone,
  loadProxyModel,
  runProxy,
} from './proxy/runs.ts';
export type { PretrainResult, ProxyOptions, ProxyResult } from './proxy/results.ts';
