/**
 * Build the demo page into a folder (default dist/demo): the page script bundled by esbuild (the
 * shared inference code from lib/, ONNX Runtime Web, protobufjs for reading a dropped model's
 * metadata), ONNX Runtime's WebAssembly binary (with WebGPU), index.html, and the model, samples
 * and palettes from ./prepare.ts.
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { prepareDemoModel, writePalettes, type PrepareOptions } from './prepare.ts';
import type { DemoCard } from './card.ts';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** ONNX Runtime Web's WebAssembly build with the WebGPU execution provider (JSEP), and its loader. */
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs'];

export interface BuildOptions extends PrepareOptions {
  /** Include the built-in dataset in palettes.json (generates it once if needed; default true). */
  builtinPalette?: boolean;
}

/** Bundle the page script and copy the static files; returns the bundle's size in bytes. */
export async function bundlePage(out: string): Promise<number> {
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [join(here, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome113',
    outfile: join(out, 'main.js'),
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
  for (const f of ORT_FILES) copyFileSync(require.resolve(`onnxruntime-web/${f}`), join(out, f));
  return statSync(join(out, 'main.js')).size;
}

/** Build everything the page needs into `opts.out`. */
export async function buildDemo(opts: BuildOptions): Promise<DemoCard> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[demo] ${l}\n`));
  const bytes = await bundlePage(opts.out);
  log(`bundled main.js (${(bytes / 1024).toFixed(0)} KiB) with esbuild ${esbuild.version}`);
  const card = await prepareDemoModel({ ...opts, log });
  await writePalettes(opts.out, opts.builtinPalette ?? true);
  return card;
}
