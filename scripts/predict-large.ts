/**
 * `offseg predict` on phone-sized and larger photos, measured: wall time, the CLI's own
 * inference time and peak memory (max RSS of the process, from /usr/bin/time), per photo size
 * and engine. OffSeg-T with 150 classes (ADE20K palette and test pipeline: keep-ratio 2048×512,
 * slide 512/480), random weights: memory and time do not depend on the weights.
 *
 *   npx tsx scripts/predict-large.ts [--engines tfjs,onnxruntime] [--sizes 4032x3024,8000x6000]
 *
 * Writes results/bench/predict-large.md and .json. Too slow for `npm test` (minutes).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { selectBackend } from '../lib/backend/select.ts';
import { createModel } from '../lib/models/registry.ts';
import { exportPth } from '../lib/io/checkpoint.ts';
import { decodePngLabel } from '../lib/data/png.ts';
import { repoRoot } from '../lib/paths.ts';

const { values } = parseArgs({
  options: { engines: { type: 'string' }, sizes: { type: 'string' } },
});
const engines = (values.engines ?? 'tfjs,onnxruntime').split(',');
const sizes = (values.sizes ?? '4032x3024,8000x6000')
  .split(',')
  .map((s) => s.split('x').map(Number));

const root = repoRoot();
const dir = mkdtempSync(join(tmpdir(), 'offseg-predict-large-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

await selectBackend({ prefer: 'cpu', log: false });
const model = createModel('offseg-t', { numClasses: 150, seed: 0 });
const ckpt = join(dir, 'offseg-t_random.pth');
exportPth(model, ckpt);
model.dispose();

/** A noisy gradient photo; the first one is stored rotated with EXIF orientation 6 (portrait). */
async function photo(w: number, h: number, exif: boolean): Promise<string> {
  const p = join(dir, `photo_${w}x${h}.jpg`);
  const noise = await sharp({
    create: {
      width: w,
      height: h,
      channels: 3,
      background: { r: 0, g: 0, b: 0 },
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
    limitInputPixels: false,
  })
    .blur(8)
    .jpeg({ quality: 90 })
    .toBuffer();
  const s = sharp(noise, { limitInputPixels: false });
  writeFileSync(p, await (exif ? s.withMetadata({ orientation: 6 }) : s).jpeg().toBuffer());
  return p;
}

interface Row {
  size: string;
  engine: string;
  exitCode: number;
  wallS: number;
  inferenceS: number;
  networkS: number;
  maxRssMiB: number;
  labelSize: string;
  line: string;
}

const rows: Row[] = [];
const load = [loadavg()[0]];
for (const [i, [w, h]] of sizes.entries()) {
  const img = await photo(w, h, i === 0);
  for (const engine of engines) {
    const out = join(dir, `out-${engine}`);
    const args = [
      '-v',
      process.execPath,
      '--import',
      'tsx',
      join(root, 'lib/cli/main.ts'),
      'predict',
      '--model',
      'offseg-t',
      '--checkpoint',
      ckpt,
      '--palette',
      'ade20k',
      '--input',
      img,
      '--output',
      out,
      '--engine',
      engine,
      '--backend',
      'wasm',
    ];
    const t0 = Date.now();
    const r = spawnSync('/usr/bin/time', args, { cwd: root, encoding: 'utf8' });
    const wallS = (Date.now() - t0) / 1000;
    const rss =
      Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
    const line =
      r.stderr.split('\n').find((l) => l.includes(' s inference')) ?? r.stderr.slice(-400);
    const m = /; ([\d.]+) s inference \(network ([\d.]+) s\)/.exec(line);
    const inf = Number(m?.[1] ?? NaN);
    const netS = Number(m?.[2] ?? NaN);
    const png = join(out, 'pred', `photo_${w}x${h}.png`);
    let labelSize = '-';
    if (existsSync(png)) {
      const l = decodePngLabel(readFileSync(png));
      labelSize = `${l.width}×${l.height}`;
    }
    const row = {
      size: `${w}×${h}${i === 0 ? ' (EXIF 6)' : ''}`,
      engine,
      exitCode: r.status ?? -1,
      wallS,
      inferenceS: inf,
      networkS: netS,
      maxRssMiB: Math.round(rss),
      labelSize,
      line: line.trim(),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}

load.push(loadavg()[0]);
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })
  .toString()
  .trim();
const md = [
  '# offseg predict on large photos',
  '',
  `OffSeg-T, K = 150 (ADE20K test pipeline: keep-ratio 2048×512, slide 512/480), random weights, tfjs backend wasm; commit ${commit}, ${new Date().toISOString().slice(0, 10)}, 2 cores.`,
  'Inference = keep-ratio resize, normalisation, network (both slide windows), resize to the photo and argmax (lib/eval/segment.ts); wall adds start-up, weight loading, decoding and writing the PNG and JPEG (and, for ONNX Runtime, exporting the model first).',
  'Max RSS is the whole process (Node, tfjs wasm heap, ONNX Runtime, decoded photo, overlay); the label map is written at the photo size after EXIF rotation. The machine ran other jobs at the same time: times are upper bounds.',
  `Load average (1 min) at start and end: ${load.map((l) => l.toFixed(1)).join(', ')} on 2 cores.`,
  '',
  '| photo | engine | exit | wall (s) | inference (s) | of which network (s) | max RSS (MiB) | label map |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.size} | ${r.engine} | ${r.exitCode} | ${r.wallS.toFixed(1)} | ${r.inferenceS} | ${r.networkS} | ${r.maxRssMiB} | ${r.labelSize} |`,
  ),
  '',
  'Regenerate: `npx tsx scripts/predict-large.ts`.',
  '',
].join('\n');
mkdirSync(join(root, 'results/bench'), { recursive: true });
writeFileSync(join(root, 'results/bench/predict-large.md'), md);
writeFileSync(join(root, 'results/bench/predict-large.json'), JSON.stringify(rows, null, 1) + '\n');
console.log(md);
