/**
 * The demo page: load the exported model named by `model/card.json`, segment a dropped, picked
 * or sample photo with the same recipe as `offseg predict` (lib/eval/segment_photo.ts), and show
 * the overlay, a legend of the classes present with their pixel share, and the latency. Another
 * exported `.onnx` can be loaded; its dataset is chosen by class count (`palettes.json`).
 * `globalThis.offsegDemo` exposes the last result for the end-to-end test.
 */
import { readOnnxMeta } from '../lib/export/onnx_meta.ts';
import { segmentPhoto } from '../lib/eval/segment_photo.ts';
import { classAreas, colorLabels, overlayLabels, type ClassArea } from '../lib/eval/overlay.ts';
import { openSession, ortNet, type OrtModel } from './ort_net.ts';
import {
  datasetForClasses,
  type DatasetCard,
  type DatasetCards,
  type DemoCard,
  type DemoState,
} from './card.ts';

interface Loaded {
  model: OrtModel;
  name: string;
  numClasses: number;
  sizeDivisor: number;
  dataset: DatasetCard;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const base = new URL('./', location.href).href;
let current: Loaded | undefined;
let datasets: DatasetCards = {};

function status(state: 'loading' | 'ready' | 'busy' | 'done' | 'error', text: string): void {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = text;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Open a session over an exported model and pair it with its dataset. */
async function loadModel(
  bytes: Uint8Array,
  source: string,
  dataset?: DatasetCard,
): Promise<Loaded> {
  const meta = readOnnxMeta(bytes, source);
  const ds = dataset ?? datasetForClasses(datasets, meta.numClasses);
  if (!ds) {
    throw new Error(
      `${source} predicts ${meta.numClasses} classes; no dataset has that many: pick one in the list`,
    );
  }
  if (ds.classes.length !== meta.numClasses) {
    throw new Error(
      `${source} predicts ${meta.numClasses} classes but ${ds.name} has ${ds.classes.length}`,
    );
  }
  const model = await openSession(bytes, base);
  return {
    model,
    name: meta.model,
    numClasses: meta.numClasses,
    sizeDivisor: meta.sizeDivisor,
    dataset: ds,
  };
}

function showModel(label: string, trained: boolean): void {
  const el = $('model-label');
  el.textContent = label;
  el.classList.toggle('untrained', !trained);
  const l = current!;
  const t = l.dataset.test;
  const mode =
    t.inference.mode === 'slide'
      ? `slide ${t.inference.crop!.join('×')} / ${t.inference.stride!.join('×')}`
      : 'whole';
  $('runtime').textContent =
    `${l.name}, ${l.numClasses} ${l.dataset.name} classes · ONNX Runtime Web on ${l.model.describe}` +
    ` · test pipeline: keep-ratio resize to ${t.pipeline.scale?.join('×') ?? 'original size'}, ${mode}`;
  const sel = $<HTMLSelectElement>('dataset');
  sel.value = l.dataset.name;
}

/** Decode a photo with its EXIF orientation to RGB uint8 HWC. */
async function decode(blob: Blob): Promise<{ data: Uint8Array; width: number; height: number }> {
  const bmp = await createImageBitmap(blob, {
    imageOrientation: 'from-image',
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = c.getContext('2d')!;
  ctx.drawImage(bmp, 0, 0);
  const rgba = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
  const rgb = new Uint8Array(bmp.width * bmp.height * 3);
  for (let p = 0; p < bmp.width * bmp.height; p++) {
    rgb[3 * p] = rgba[4 * p];
    rgb[3 * p + 1] = rgba[4 * p + 1];
    rgb[3 * p + 2] = rgba[4 * p + 2];
  }
  return { data: rgb, width: bmp.width, height: bmp.height };
}

function legend(areas: ClassArea[], ds: DatasetCard): void {
  const ul = $('legend');
  ul.replaceChildren();
  for (const a of areas) {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    const [r, g, b] = ds.palette[a.id] ?? [0, 0, 0];
    sw.style.background = `rgb(${r}, ${g}, ${b})`;
    const name = document.createElement('span');
    name.textContent = a.name.trim();
    const share = document.createElement('span');
    share.className = 'share';
    share.textContent = `${(a.share * 100).toFixed(a.share < 0.01 ? 2 : 1)} %`;
    li.append(sw, name, share);
    li.dataset.classId = String(a.id);
    ul.append(li);
  }
}

function draw(id: string, rgba: Uint8ClampedArray, width: number, height: number): void {
  const c = $<HTMLCanvasElement>(id);
  c.width = width;
  c.height = height;
  c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
}

async function segment(blob: Blob, name: string): Promise<void> {
  const l = current;
  if (!l) return;
  status('busy', `Segmenting ${name}…`);
  try {
    const t0 = performance.now();
    const photo = await decode(blob);
    if (Math.min(photo.width, photo.height) < l.sizeDivisor) {
      throw new Error(
        `${name} is ${photo.width}×${photo.height} px, smaller than ${l.sizeDivisor} px (the model's size divisor)`,
      );
    }
    const timing = { ms: 0 };
    const net = ortNet(l.model, l, timing);
    const pred = await segmentPhoto(net, photo, l.dataset.test);
    const over = overlayLabels(
      { data: photo.data, width: photo.width, height: photo.height, channels: 3 },
      pred.labels,
      l.dataset.palette,
    );
    const rgba = new Uint8ClampedArray(photo.width * photo.height * 4);
    for (let p = 0; p < photo.width * photo.height; p++) {
      rgba.set(over.data.subarray(3 * p, 3 * p + 3), 4 * p);
      rgba[4 * p + 3] = 255;
    }
    draw('overlay', rgba, photo.width, photo.height);
    draw('labels', colorLabels(pred.labels, l.dataset.palette), photo.width, photo.height);
    const areas = classAreas(pred.labels, l.dataset.classes);
    legend(areas, l.dataset);
    const total = performance.now() - t0;
    const [ih, iw] = pred.inputSize;
    $('latency').textContent =
      `${name}: ${photo.width}×${photo.height} px, network input ${iw}×${ih}. ` +
      `Inference ${timing.ms.toFixed(0)} ms (${l.model.describe}), ` +
      `pre/post-processing ${(total - timing.ms).toFixed(0)} ms, total ${total.toFixed(0)} ms.`;
    demo.last = {
      name,
      width: photo.width,
      height: photo.height,
      labels: Array.from(pred.labels),
      classes: areas,
      inferenceMs: timing.ms,
      totalMs: total,
      backend: l.model.describe,
    };
    status('done', `${areas.length} classes in ${name}`);
  } catch (e) {
    status('error', (e as Error).message);
  }
}

function wireInputs(): void {
  const file = $<HTMLInputElement>('file');
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f) void segment(f, f.name);
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void segment(f, f.name);
  });
  const sel = $<HTMLSelectElement>('dataset');
  for (const name of Object.keys(datasets)) sel.append(new Option(name, name));
  const onnx = $<HTMLInputElement>('onnx-file');
  const reload = async (): Promise<void> => {
    const f = onnx.files?.[0];
    if (!f) return;
    status('loading', `Loading ${f.name}…`);
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      const chosen =
        sel.value && current?.dataset.name !== sel.value ? datasets[sel.value] : undefined;
      current = await loadModel(bytes, f.name, chosen);
      showModel(`Your model: ${f.name}`, true);
      status('ready', 'Ready: drop a photo.');
    } catch (e) {
      status('error', (e as Error).message);
    }
  };
  onnx.addEventListener('change', () => void reload());
}

function wireSamples(card: DemoCard): void {
  const box = $('samples');
  for (const s of card.samples) {
    const b = document.createElement('button');
    const img = document.createElement('img');
    img.src = s;
    img.alt = s;
    b.append(img);
    b.title = `segment ${s}`;
    b.addEventListener('click', async () => {
      const r = await fetch(s);
      void segment(await r.blob(), s.split('/').pop()!);
    });
    box.append(b);
  }
}

async function start(): Promise<void> {
  datasets = (await (await fetch('palettes.json')).json()) as DatasetCards;
  const card = (await (await fetch('model/card.json')).json()) as DemoCard;
  datasets[card.dataset.name] = card.dataset;
  wireInputs();
  wireSamples(card);
  current = await loadModel(await fetchBytes(card.onnx), card.onnx, card.dataset);
  showModel(card.label, card.trained);
  status('ready', 'Ready: drop a photo, choose one, or click a sample.');
}

const demo: DemoState = { ready: Promise.resolve() };
demo.ready = start().catch((e: Error) => status('error', `Could not start: ${e.message}`));
(globalThis as unknown as { offsegDemo: DemoState }).offsegDemo = demo;
