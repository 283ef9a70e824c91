/**
 * Every kind of figure the notebooks and the CLI save, drawn in headless Chromium: the page
 * Plotly draws has its title, a title on every labelled axis, legend entries, titled colour
 * bars and column titles (figureProblems is empty), with the texts the builders promise. A saved
 * HTML without them is reported. Skipped, with one line, where Chromium is missing.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, closeBrowser, figureHtml, type Figure } from './figure.ts';
import {
  figureProblems,
  inspectFigure,
  inspectFigures,
  type FigureAnatomy,
} from './figure_check.ts';
import { panelGridFigure } from './panel_grid.ts';
import { fig3Figure, table6Figure, table7Figure } from './proxy_figures.ts';
import { tradeoffFigure } from './tradeoff_figure.ts';
import { trainingCurvesFigure } from './training_curves.ts';
import type { TrainingLog } from './training_log.ts';

const skip = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM} (apt-get install chromium): figure check skipped`;
if (skip) console.log(`[figure check] ${skip}`);

const stats = (mean: number) => ({ mean, std: 1, n: 3 });
const point = (label: string, g: number) => ({
  label,
  gflops: g,
  quotedGflops: g,
  proxy: stats(g),
  quotedMIoU: 40 + g,
});
const sim = (className: string) => ({
  classId: 0,
  className,
  images: [0, 1, 2],
  matrix: [
    [1, 0.2, 0.1],
    [0.2, 1, 0.3],
    [0.1, 0.3, 1],
  ],
  meanOffDiagonal: 0.2,
});
const log = (name: string): TrainingLog => ({
  name,
  dir: name,
  train: [{ iteration: 10, loss: 1, lr: 0.1, itPerSec: 1 }],
  eval: [{ iteration: 10, mIoU: 5, aAcc: 50 }],
  resumedAt: [],
  logInterval: 10,
});

async function figures(): Promise<Record<string, Figure>> {
  const px = new Uint8Array(4 * 4 * 3).fill(128);
  return {
    t6: table6Figure([
      { label: 'FreqFusion, per-pixel', proxy: stats(50), quoted: 42 },
      { label: 'FreqFusion, both offsets', proxy: stats(55), quoted: 44.2 },
    ]),
    t7: table7Figure([point('C = 64', 4.7), point('C = 128', 5.1)], point('OffSeg-T', 5.3)),
    f1: tradeoffFigure([
      { model: 'offseg-t', family: 'OffSeg', mIoU: 44, quotedGflops: 5.3, paper: 5.4, fvcore: 9.5 },
      { model: 'offseg-b', family: 'OffSeg', mIoU: 46, quotedGflops: 10, paper: 10, fvcore: 15 },
      {
        model: 'segformer-b0',
        family: 'SegFormer',
        mIoU: 37,
        quotedGflops: 8,
        paper: 7,
        fvcore: 8,
      },
      {
        model: 'segformer-b0-ol',
        family: 'SegFormer + OL',
        mIoU: 40,
        quotedGflops: 9,
        paper: 6,
        fvcore: 9,
      },
    ]),
    f3: fig3Figure([
      { label: 'per-pixel', similarity: [sim('sky'), sim('ball')] },
      { label: 'Offset Learning', similarity: [sim('sky'), sim('ball')] },
    ]),
    grid: await panelGridFigure(
      [
        [
          { data: px, h: 4, w: 4, caption: 'val #0' },
          { data: px, h: 4, w: 4, caption: '' },
        ],
      ],
      {
        columnTitles: ['image', 'prediction'],
        legend: {
          names: ['sky', 'grass'],
          colours: [
            [0, 0, 255],
            [0, 255, 0],
          ],
        },
        title: 'grid',
      },
    ),
    curves: trainingCurvesFigure([log('run-a'), log('run-b')]),
  };
}

let seen: Record<string, FigureAnatomy> = {};
before(async () => {
  if (skip) return;
  const figs = await figures();
  const names = Object.keys(figs);
  const read = await inspectFigures(names.map((n) => figs[n]));
  seen = Object.fromEntries(names.map((n, i) => [n, read[i]]));
});
const axisTitles = (a: FigureAnatomy) => Object.fromEntries(a.axes.map((x) => [x.id, x.title]));

test(
  'Table 6 and 7: proxy and quoted in their own titled panels, each axis titled',
  { skip },
  () => {
    const { t6, t7 } = seen;
    assert.deepEqual(figureProblems(t6), []);
    assert.match(t6.title, /^Table 6/);
    assert.equal(axisTitles(t6).y, 'proxy mIoU (%), built-in dataset');
    assert.equal(axisTitles(t6).y2, 'ADE20K mIoU (%), quoted');
    assert.deepEqual(t6.annotations.slice(0, 2), [
      'trained here on the built-in dataset (proxy)',
      'the paper, ADE20K (quoted)',
    ]);
    assert.equal(t6.legend.length, 2);
    assert.deepEqual(figureProblems(t7), []);
    assert.deepEqual(
      [axisTitles(t7).x, axisTitles(t7).x2],
      ['GFLOPs (measured here)', 'GFLOPs (quoted)'],
    );
    assert.equal(t7.legend.length, 4);
  },
);

test(
  'Fig. 1 axes and legend; Fig. 3 class columns, named rows, titled colour bar',
  { skip },
  () => {
    const { f1, f3 } = seen;
    assert.deepEqual(figureProblems(f1), []);
    assert.match(axisTitles(f1).x, /GFLOPs/);
    assert.match(axisTitles(f1).y, /ADE20K mIoU/);
    assert.equal(f1.legend.length, 5);
    assert.deepEqual(figureProblems(f3), []);
    assert.deepEqual(f3.annotations, ['sky', 'ball']);
    assert.ok(f3.axes.some((a) => /^per-pixel ?image$/.test(a.title)));
    assert.ok(f3.axes.some((a) => /^Offset Learning ?image$/.test(a.title)));
    assert.ok(f3.colorbars.some((c) => /cosine/.test(c)));
  },
);

test(
  'image grids and training curves: column titles, class legend, titled panels',
  { skip },
  () => {
    const { grid, curves } = seen;
    assert.deepEqual(figureProblems(grid), []);
    assert.deepEqual(grid.annotations.slice(0, 2), ['image', 'prediction']);
    assert.deepEqual(grid.legend, ['sky', 'grass']);
    assert.deepEqual(figureProblems(curves), []);
    assert.deepEqual(curves.legend, ['run-a', 'run-b']);
    assert.deepEqual(
      ['y', 'y2', 'y3'].map((id) => axisTitles(curves)[id]),
      ['training loss', 'learning rate', 'val mIoU (%)'],
    );
  },
);

test(
  'a saved HTML is opened and read; one without titles or legend is reported',
  { skip },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'offseg-figcheck-'));
    try {
      const html = join(tmp, 'bare.html');
      const bare: Figure = {
        data: [
          { type: 'scatter', x: [1, 2], y: [1, 2], name: 'a' },
          { type: 'scatter', x: [1, 2], y: [2, 1], name: 'b' },
        ],
        layout: { showlegend: false },
      };
      writeFileSync(html, figureHtml(bare));
      assert.deepEqual(figureProblems(await inspectFigure(html)), [
        'no title',
        'axis x has tick labels but no title',
        'axis y has tick labels but no title',
        '2 traces but 0 legend entries',
      ]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      await closeBrowser();
    }
  },
);
