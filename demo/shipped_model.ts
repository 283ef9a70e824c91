/**
 * The demo page `npm run reproduce` ships (`shipDemo`): built into dist/demo with a trained model
 * of this workspace — the proxy study's OffSeg-T (full protocol, the seed with the best val mIoU
 * whose run folder is on disk), else the newest finished `npm run quickstart` run, else none (the
 * page keeps the model it has) — and photographed in Chromium segmenting its first sample.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../lib/paths.ts';
import { chromiumMissing } from '../lib/report/chromium.ts';
import { latestTrainedRun } from '../lib/report/trained_runs.ts';
import { buildDemo, bundlePage } from './build.ts';
import type { DemoCard } from './card.ts';
import { writePalettes } from './prepare.ts';
import { screenshotDemo, type DemoShot } from './screenshot.ts';

export interface ShippedModel {
  /** The run folder to export (holds config.json and last_checkpoint). */
  run: string;
  /** Its val mIoU in percent, for the page's model line. */
  mIoU?: number;
  /** Where it comes from, for the log. */
  source: 'proxy study' | 'quickstart';
}

interface ProxyRecord {
  model?: string;
  mode?: string;
  mIoU?: number;
  workDir?: string;
}

/** Finished full-protocol runs of `model` recorded under results/proxy/runs/, best first. */
function proxyRuns(root: string, model: string): ShippedModel[] {
  const dir = join(root, 'results', 'proxy', 'runs');
  const out: ShippedModel[] = [];
  for (let seed = 0; seed < 100; seed++) {
    const f = join(dir, `${model}-s${seed}-full.json`);
    if (!existsSync(f)) continue;
    const r = JSON.parse(readFileSync(f, 'utf8')) as ProxyRecord;
    if (!r.workDir || typeof r.mIoU !== 'number') continue;
    const run = join(root, r.workDir);
    if (existsSync(join(run, 'config.json')) && existsSync(join(run, 'last_checkpoint')))
      out.push({ run, mIoU: r.mIoU, source: 'proxy study' });
  }
  return out.sort((a, b) => b.mIoU! - a.mIoU!);
}

/**
 * The model to ship, or undefined when neither the proxy study's OffSeg-T nor a quickstart run
 * has been trained in `root` (default: the checkout).
 */
export function shippedDemoModel(root = repoRoot(), model = 'offseg-t'): ShippedModel | undefined {
  const proxy = proxyRuns(root, model)[0];
  if (proxy) return proxy;
  const quick = latestTrainedRun(join(root, 'work_dirs'));
  return quick ? { run: quick.dir, mIoU: quick.mIoU, source: 'quickstart' } : undefined;
}

/**
 * Build the page into `opts.site` with `shippedDemoModel()` exported into it (an unchanged
 * checkpoint is not exported again), then, when Chromium is there, save a screenshot of it
 * segmenting its first sample photo to `opts.png`.
 * @returns the page's card (undefined when the current model was kept) and the screenshot
 */
export async function shipDemo(opts: {
  site: string;
  png: string;
  log: (line: string) => void;
}): Promise<{ card?: DemoCard; shot?: DemoShot }> {
  const { site, log } = opts;
  const choice = shippedDemoModel();
  let card: DemoCard | undefined;
  const current = join(site, 'model', 'card.json');
  if (choice) {
    card = await buildDemo({ out: site, run: choice.run, mIoU: choice.mIoU, log });
    log(`model from the ${choice.source}: ${card.label}`);
  } else if (existsSync(current)) {
    await bundlePage(site);
    await writePalettes(site);
    const kept = JSON.parse(readFileSync(current, 'utf8')) as DemoCard;
    log(
      `no proxy-study OffSeg-T and no quickstart run trained yet: the page keeps its model (${kept.label})`,
    );
  } else {
    card = await buildDemo({ out: site, log });
    log(`no proxy-study OffSeg-T and no quickstart run trained yet: ${card.label}`);
  }
  log(`page built in ${relative(repoRoot(), site) || site}/ (npm run demo serves it)`);
  const missing = chromiumMissing();
  if (missing) {
    log(`no screenshot: ${missing}`);
    return { card };
  }
  const shot = await screenshotDemo({ site, png: opts.png });
  log(`screenshot ${relative(repoRoot(), shot.png)}: ${shot.latency}`);
  return { card, shot };
}
