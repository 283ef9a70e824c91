/**
 * Kernel throughput on the WASM backend, 1 vs 2 threads.
 *
 *   npx tsx scripts/bench-kernels.ts [--threads 1,2] [--reps 5] [--quick] [--json]
 *
 * Each thread count runs in its own child process (the thread pool is fixed when the backend
 * starts). Prints GFLOP/s (median of --reps after one warm-up) for the conv2d 3×3 64→64 on
 * [8,64,64,64] forward / input gradient / filter gradient, matMul 1024³ and a few more
 * training kernels; "stock" rows run the replaced stock WASM kernel for comparison.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { setupWasm } from '../lib/backend/wasm.ts';
import { stockWasmKernel } from '../lib/backend/wasm_kernels.ts';

interface Row {
  name: string;
  gflop: number;
  ms: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

async function time(reps: number, f: () => tf.Tensor): Promise<number> {
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const y = f();
    await y.data();
    const dt = performance.now() - t0;
    y.dispose();
    return dt;
  };
  await once();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) ts.push(await once());
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

const ex = (p: number): tf.backend_util.ExplicitPadding => [
  [0, 0],
  [p, p],
  [p, p],
  [0, 0],
];

function kernel(name: string, inputs: Record<string, tf.Tensor>, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor;
}

/** Run a stock (replaced) kernel function directly. */
function stock(name: string, inputs: Record<string, tf.Tensor>, attrs: object): tf.Tensor {
  const k = stockWasmKernel(name);
  if (!k) throw new Error(`no stock ${name}`);
  const info = k.kernelFunc({ inputs, backend: tf.backend(), attrs: attrs as never }) as TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(info);
}

async function child(threads: number, reps: number): Promise<void> {
  const setup = await setupWasm({ threads });
  const rows: Row[] = [];
  // --quick: only the headline kernels (conv 3×3 s1 forward/grads, matMul 1024³).
  const quick = process.argv.includes('--quick');
  const HEADLINE = /^conv2d 3x3 s1 (forward|input grad|filter grad)$|^matMul 1024³$/;
  const add = async (name: string, gflop: number, f: () => tf.Tensor): Promise<void> => {
    if (quick && !HEADLINE.test(name)) return;
    const ms = await time(reps, f);
    rows.push({ name, gflop, ms });
  };
  const B = 8;
  const C = 64;
  const S = 64;
  const x = tf.randomNormal([B, S, S, C]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, C, C], 0, 0.1) as tf.Tensor4D;
  const convG = (2 * B * S * S * C * C * 9) / 1e9;
  const dy = tf.randomNormal([B, S, S, C]) as tf.Tensor4D;
  const conv = { strides: 1, pad: ex(1), dataFormat: 'NHWC' };
  await add('conv2d 3x3 s1 forward', convG, () => tf.conv2d(x, w, 1, ex(1)));
  await add('conv2d 3x3 s1 input grad', convG, () =>
    kernel('Conv2DBackpropInput', { dy, filter: w }, { ...conv, inputShape: x.shape }),
  );
  if (stockWasmKernel('Conv2DBackpropInput')) {
    await add('  (stock wasm input grad)', convG, () =>
      stock('Conv2DBackpropInput', { dy, filter: w }, { ...conv, inputShape: x.shape }),
    );
  }
  await add('conv2d 3x3 s1 filter grad', convG, () =>
    kernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: w.shape }),
  );
  const dy2 = tf.randomNormal([B, S / 2, S / 2, C]) as tf.Tensor4D;
  const s2 = { strides: 2, pad: ex(1), dataFormat: 'NHWC' };
  await add('conv2d 3x3 s2 forward', convG / 4, () => tf.conv2d(x, w, 2, ex(1)));
  await add('conv2d 3x3 s2 input grad', convG / 4, () =>
    kernel('Conv2DBackpropInput', { dy: dy2, filter: w }, { ...s2, inputShape: x.shape }),
  );
  await add('conv2d 3x3 s2 filter grad', convG / 4, () =>
    kernel('Conv2DBackpropFilter', { x, dy: dy2 }, { ...s2, filterShape: w.shape }),
  );
  for (const [kh, kw] of [
    [3, 3],
    [5, 5],
    [1, 21],
  ]) {
    const dw = tf.randomNormal([kh, kw, C, 1]) as tf.Tensor4D;
    const g = (2 * B * S * S * C * kh * kw) / 1e9;
    const pad = ex(0);
    pad[1] = [kh >> 1, kh >> 1];
    pad[2] = [kw >> 1, kw >> 1];
    const a = { strides: 1, pad, dilations: 1 };
    const tag = `depthwise ${kh}x${kw}`;
    await add(`${tag} forward`, g, () => tf.depthwiseConv2d(x, dw, 1, pad));
    await add(`${tag} input grad`, g, () =>
      kernel(
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: dw },
        { ...a, inputShape: x.shape },
      ),
    );
    await add(`${tag} filter grad`, g, () =>
      kernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...a, filterShape: dw.shape }),
    );
  }
  const m = tf.randomNormal([1024, 1024]);
  const n = tf.randomNormal([1024, 1024]);
  const mmG = (2 * 1024 ** 3) / 1e9;
  await add('matMul 1024³', mmG, () => tf.matMul(m, n));
  await add('matMul 1024³ transposeA', mmG, () => tf.matMul(m, n, true, false));
  if (stockWasmKernel('BatchMatMul')) {
    await add('  (stock wasm transposeA)', mmG, () =>
      stock('BatchMatMul', { a: m, b: n }, { transposeA: true, transposeB: false }),
    );
  }
  const q = tf.randomNormal([16, 1024, 32]);
  const k = tf.randomNormal([16, 1024, 32]);
  const attG = (2 * 16 * 1024 * 1024 * 32) / 1e9;
  await add('batched matMul 16×[1024,32]·[32,1024]ᵀ', attG, () => tf.matMul(q, k, false, true));
  if (stockWasmKernel('BatchMatMul')) {
    await add('  (stock wasm batched)', attG, () =>
      stock('BatchMatMul', { a: q, b: k }, { transposeA: false, transposeB: true }),
    );
  }
  process.stdout.write(
    JSON.stringify({ threads: setup.threads, simd: setup.simd, note: setup.threadsNote, rows }) +
      '\n',
  );
}

interface ChildResult {
  threads: number;
  simd: boolean;
  note?: string;
  rows: Row[];
}

function parent(): void {
  const counts = arg('threads', '1,2').split(',').map(Number);
  const reps = arg('reps', '5');
  const results: ChildResult[] = [];
  for (const t of counts) {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        '--threads',
        String(t),
        '--reps',
        reps,
        ...(process.argv.includes('--quick') ? ['--quick'] : []),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) throw new Error(`child (${t} threads) failed`);
    results.push(JSON.parse(line) as ChildResult);
  }
  const head = [
    'kernel'.padEnd(42),
    ...results.map((r) => `${r.threads} thr GFLOP/s (ms)`.padStart(24)),
  ];
  const load = os.loadavg().map((l) => l.toFixed(1));
  console.log(
    `WASM, SIMD ${results[0]?.simd ? 'on' : 'off'}; median of ${reps}; ${os.availableParallelism()} cores, load average ${load.join(' ')} (other processes share the cores)`,
  );
  for (const r of results) if (r.note) console.log(`note (${r.threads} thr): ${r.note}`);
  console.log(head.join(''));
  results[0].rows.forEach((row, i) => {
    const cells = results.map((r) => {
      const x = r.rows[i];
      return `${(x.gflop / (x.ms / 1e3)).toFixed(2)} (${x.ms.toFixed(1)})`.padStart(24);
    });
    console.log(row.name.padEnd(42) + cells.join(''));
  });
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
}

if (process.argv.includes('--child')) {
  await child(Number(arg('threads', '1')), Number(arg('reps', '5')));
} else {
  parent();
}
