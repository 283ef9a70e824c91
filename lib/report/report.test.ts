/**
 * The notebook plumbing: tables through danfojs (CSV quoting, provenance tags, one rounding
 * per column), report sections, the artefact list, and a Plotly figure saved as HTML (+ PNG
 * when Chromium is installed). The .ts ↔ .ipynb pairing is tested in test/notebook_pairing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../test/helpers/parity.ts';
import { frameCsv, saveTable, toDataFrame } from './frame.ts';
import { isQuick, writeSection } from './section.ts';
import { CHROMIUM, saveFigure, savePng } from './figure.ts';
import { EXPECTED, expectedFiles, missingArtefacts } from './artefacts.ts';
import { failure } from './jupyter.ts';
import { checkpointEnv, evalReleased } from './released.ts';
import { missingEmbeds, reportLinkProblems, reportMarkdown } from './report_md.ts';
import type { Table } from './table.ts';

await useBackend('cpu');

const tmp = mkdtempSync(join(tmpdir(), 'offseg-report-'));
process.env.OFFSEG_RESULTS_DIR = tmp;
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const T: Table = {
  title: 'demo',
  columns: ['model', 'variant', 'params M (quoted)', 'params M (measured)'],
  rows: [
    ['a', 'conv decoder, per-pixel', 6.2, 6.222176],
    ['b', 'say "hi"', 13, null],
  ],
};

test('saveTable: CSV through danfojs (quoted text, empty NaN), Markdown beside it', () => {
  const df = toDataFrame(T);
  assert.deepEqual(df.columns, T.columns);
  assert.deepEqual(df.shape, [2, 4]);
  const csv = frameCsv(T);
  assert.equal(
    csv,
    'model,variant,params M (quoted),params M (measured)\n' +
      'a,"conv decoder, per-pixel",6.2,6.222176\n' +
      'b,"say ""hi""",13,\n',
  );
  const { csv: c, md } = saveTable('demo', T);
  assert.equal(c, join(tmp, 'tables', 'demo.csv'));
  assert.equal(readFileSync(c, 'utf8'), csv);
  // One rounding per column: the quoted column needs 1 decimal (13 → 13.0), the measured one 2.
  const text = readFileSync(md, 'utf8');
  assert.match(text, /\| a \| conv decoder, per-pixel \| 6.2 \| 6.22 \|/);
  assert.match(text, /\| b \| say "hi" \| 13.0 \| – \|/);
});

test('saveTable: a numeric column without (measured|proxy|quoted) is refused', () => {
  assert.throws(
    () => saveTable('bad', { title: 'bad', columns: ['model', 'GFLOPs'], rows: [['x', 1]] }),
    /must end with \(measured\), \(proxy\) or \(quoted\)/,
  );
});

test('writeSection writes results/report/<id>.md; isQuick reads OFFSEG_QUICK', () => {
  const f = writeSection('99-demo', 'Demo', 'body\n');
  assert.equal(f, join(tmp, 'report', '99-demo.md'));
  assert.equal(readFileSync(f, 'utf8'), '## Demo\n\nbody\n');
  assert.throws(() => writeSection('demo', 't', 'x'), /must look like/);
  const old = process.env.OFFSEG_QUICK;
  process.env.OFFSEG_QUICK = '1';
  assert.equal(isQuick(), true);
  process.env.OFFSEG_QUICK = '0';
  assert.equal(isQuick(), false);
  process.env.OFFSEG_QUICK = old;
});

test('artefact list: every notebook has a section; missing files are reported', () => {
  const ids = EXPECTED.map((a) => a.section);
  assert.equal(new Set(ids).size, ids.length);
  const qs = EXPECTED.find((a) => a.notebook === '00-quickstart')!;
  assert.deepEqual(expectedFiles(qs, { executed: true }), [
    'report/00-quickstart.md',
    'figures/00_quickstart.html',
    'figures/00_quickstart.png',
    'notebooks/00-quickstart.ipynb',
  ]);
  const dir = mkdtempSync(join(tmp, 'art-'));
  assert.deepEqual(missingArtefacts(dir, [qs]), [
    'report/00-quickstart.md',
    'figures/00_quickstart.html',
    'figures/00_quickstart.png',
  ]);
});

test('saveFigure: self-contained HTML, PNG from Chromium; savePng for plain images', async () => {
  const r = await saveFigure('demo', {
    data: [{ type: 'scatter', x: [1, 2, 3], y: [3, 1, 2], name: '</script>' }],
    layout: { title: { text: 'demo' }, width: 400, height: 300 },
  });
  const html = readFileSync(r.html, 'utf8');
  assert.ok(html.length > 1_000_000, 'plotly.js is inlined');
  assert.ok(!/<script[^>]+src=/.test(html), 'no external script');
  assert.equal((html.match(/<\/script>/g) ?? []).length, 2, 'data cannot close the script');
  if (existsSync(CHROMIUM)) {
    const png = readFileSync(r.png!);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.equal(png.readUInt32BE(16), 800); // width × scale 2
  } else {
    assert.equal(r.png, undefined);
    console.log(`[figure] ${CHROMIUM} missing: PNG not checked`);
  }
  const p = await savePng('plain', {
    data: new Uint8Array(2 * 3 * 3).fill(9),
    width: 3,
    height: 2,
    channels: 3,
  });
  assert.equal(readFileSync(p).readUInt32BE(20), 2);
});

test('a failing notebook is reported with its cell and error', () => {
  const out = [
    'kernel noise',
    'OFFSEG_CELL_FAILED: cell 3 of 01-x.ipynb',
    '------------------ cell source',
    'throw new Error("boom")',
    '------------------ cell output',
    'Error: boom',
  ].join('\n');
  const f = failure(out, 1);
  assert.match(f, /^OFFSEG_CELL_FAILED: cell 3 of 01-x.ipynb/);
  assert.match(f, /Error: boom\n\(exit code 1\)$/);
  assert.match(failure('a\nb', 2), /^a\nb\n\(exit code 2\)$/);
});

test('released checkpoints: env names, and "not run here" with the reason', async () => {
  assert.equal(checkpointEnv('offseg-t', 'ade20k'), 'OFFSEG_CKPT_OFFSEG_T_ADE20K');
  assert.equal(
    checkpointEnv('segformer-b0-ol', 'cityscapes'),
    'OFFSEG_CKPT_SEGFORMER_B0_OL_CITYSCAPES',
  );
  delete process.env.OFFSEG_ADE20K_ROOT;
  process.env.OFFSEG_CKPT_OFFSEG_T = join(tmp, 'nope.pth');
  const r = await evalReleased('offseg-t', 'ade20k');
  assert.equal(r.status, 'not-run');
  assert.match(
    r.status === 'not-run' ? r.reason : '',
    /^no dataset root \(OFFSEG_ADE20K_ROOT\), no checkpoint .*nope\.pth does not exist$/,
  );
});

test('REPORT.md: protocol stated once, links relative and resolving, every figure embedded', () => {
  const dir = mkdtempSync(join(tmp, 'rep-'));
  const section = (n: string, body: string) => `## ${n}\n\n${body}\n`;
  const md = reportMarkdown({
    command: 'npm run reproduce -- --quick',
    date: '2026-01-01T00:00:00Z',
    commit: 'abc1234',
    dirty: false,
    backend: 'cpu',
    quick: true,
    skipTrain: false,
    minutes: 1.25,
    executed: [
      ['04-table6-components', 1500],
      ['06-fig1-tradeoff', undefined],
    ],
    sections: [
      section('Table 6', '| a (proxy) |\n\n![t6](figures/table6_components.png)'),
      section('Fig. 5', 'see ![f5](../figures/fig5.png) and [abs](/tmp/x.png)'),
    ],
    tags: 'Tags: …',
    protocol: '**Proxy protocol.** built-in dataset',
  });
  assert.equal(md.match(/Proxy protocol/g)?.length, 1);
  assert.match(md, /^# OffSeg-ts reproduction report \(quick mode\)/);
  assert.match(
    md,
    /\| \[04-table6-components\]\(notebooks\/04-table6-components\.ipynb\) \| 1\.5 \|/,
  );
  assert.deepEqual(reportLinkProblems(dir, md), [
    'notebooks/04-table6-components.ipynb: no such file',
    'notebooks/06-fig1-tradeoff.ipynb: no such file',
    'figures/table6_components.png: no such file',
    `../figures/fig5.png: outside ${dir}`,
    '/tmp/x.png: absolute path',
  ]);
  assert.deepEqual(missingEmbeds(md, ['table6_components', 'fig3_ideal_representations']), [
    'fig3_ideal_representations',
  ]);
  const noProxy = reportMarkdown({
    ...{ command: 'c', date: 'd', commit: 'c', dirty: true, backend: 'b', quick: false },
    ...{ skipTrain: true, minutes: 1, executed: [], tags: 't', protocol: 'PROTOCOL-TEXT' },
    sections: [section('Table 2', 'measured only')],
  });
  assert.ok(!noProxy.includes('PROTOCOL-TEXT'), 'no protocol without proxy sections');
});
