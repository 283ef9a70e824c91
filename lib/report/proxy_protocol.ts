/**
 * The proxy protocol in force, as the Markdown paragraph notebooks 04, 05, 07, 08 and REPORT.md
 * print above their proxy numbers.
 */
import { repoRoot } from '../paths.ts';
import {
  backbonePath,
  finetuneConfig,
  modeOf,
  pretrainConfig,
  proxyProtocol,
} from '../train/proxy/protocol.ts';
import { pretrainResultPath, readJson, type PretrainResult } from '../train/proxy/results.ts';

/** A short Markdown description of the protocol in force (for notebooks and the report). */
export function proxyProtocolMarkdown(quick?: boolean, root = repoRoot()): string {
  const mode = modeOf(quick);
  const p = proxyProtocol();
  const pre = pretrainConfig(quick).config;
  const ft = finetuneConfig('offseg-t', 0, backbonePath(quick, root), quick).config;
  const b = ft.data.dataset.builtin ?? {};
  const pb = pre.data.dataset.builtin ?? {};
  const pr = readJson<PretrainResult>(pretrainResultPath(root, mode));
  const lines = [
    `**Proxy protocol (${mode} mode; configs/proxy/README.md).** Built-in dataset (${ft.model.numClasses} classes) at ${b.height}×${b.width} px, not ADE20K: proxy numbers compare variants with each other, never with the paper's mIoU.`,
    `- Backbone pretraining (stands in for ImageNet): ${pre.model.name} trained from scratch on a differently-seeded built-in set (seed ${pb.seed}, ${pb.numTrain} images), ${pre.schedule.iterations} iterations, batch ${pre.data.batchSize}, AdamW lr ${pre.optimizer.lr}; only its backbone is kept${pr ? ` (its mIoU on its own val split: ${pr.mIoU}; ${pr.seconds} s)` : ''}.`,
    `- Each variant: that backbone ${p.freezeBackbone ? '**frozen** (eval-mode BatchNorm; a proxy deviation: the paper fine-tunes it) under a freshly initialised head' : 'under a freshly initialised head, the whole network fine-tuned as in the paper (backbone lr ×1, head ×10)'}; trained ${ft.schedule.iterations} iterations, batch ${ft.data.batchSize}, crop ${ft.data.train.crop.join('×')}, AdamW lr ${ft.optimizer.lr}, warm-up ${ft.schedule.warmupIters}, poly decay; scored on ${ft.data.test.maxImages || b.numVal} val images (seed ${b.seed} set).`,
    `- Seeds ${p.seeds[mode].join(', ')} (head initialisation and data order); mean ± sample std over seeds.`,
  ];
  return lines.join('\n');
}
