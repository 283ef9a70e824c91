/**
 * Where the time of one OffSeg step goes (docs/training_speed.md).
 *
 *   npx tsx scripts/profile-step.ts [--model offseg-t] [--mode infer|train|both]
 *     [--size 512] [--batch 1] [--train-size 128] [--train-batch 4] [--reps 3] [--top 25]
 *     [--depth 4] [--backend wasm|cpu]
 *
 * Every kernel of the active backend is wrapped with a timer that keeps SELF time: a
 * composite kernel (lib/backend/kernels) that runs other kernels is charged only for its own
 * work, so the column sums to the time spent inside kernels. The WASM kernels are synchronous
 * (XNNPACK's pool joins before returning), so wall-clock deltas are exact. The forward runs
 * under the op tracer (lib/ops/trace.ts): each kernel is charged to the module of the op
 * recorded last, cut to --depth path components; backward kernels are charged to `(backward)`.
 * The gap between the step's wall time and the kernel total is JS/engine overhead (tape,
 * tidy, shape checks). The first run is a warm-up and is not counted. Process CPU time (user +
 * system, all threads) is printed per step too: on a machine other jobs load it varies far less
 * than wall time (with one thread it is the step's own work).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import os from 'node:os';
import { selectBackend, type BackendName } from '../lib/backend/select.ts';
import { createModel } from '../lib/models/registry.ts';
import { lastRecordedScope, traceOps } from '../lib/ops/trace.ts';
import { segCrossEntropy } from '../lib/train/loss.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

interface Cell {
  count: number;
  ms: number;
  /** Longest single call (a GC pause or a memory grow shows up here). */
  max: number;
}

class KernelClock {
  readonly byKernel = new Map<string, Cell>();
  readonly byScope = new Map<string, Cell>();
  /** Kernels (by name) to also break down by input shapes and attributes (--shapes). */
  readonly detailed = new Set<string>();
  readonly byShape = new Map<string, Cell>();
  /** Set while a step runs; false outside (warm-up, setup). */
  on = false;
  phase: 'forward' | 'backward' = 'forward';
  depth = 4;
  /** Forward: scope of each kernel output (by dataId), so backward work can be charged to it. */
  readonly outScope = new WeakMap<object, string>();
  /** Backward: `Kernel@scope` of the tape node whose gradient is running. */
  bwdOwner: string | undefined;
  private readonly stack: number[] = [];

  private add(map: Map<string, Cell>, key: string, ms: number, n: number): void {
    const c = map.get(key) ?? { count: 0, ms: 0, max: 0 };
    c.count += n;
    c.ms += ms;
    c.max = Math.max(c.max, ms);
    map.set(key, c);
  }

  /** Forward: the module path of the op recorded last, cut to `depth`. */
  fwdScope(): string {
    const s = lastRecordedScope();
    if (s === undefined || s === '') return '(no op recorded yet)';
    return s.split('.').slice(0, this.depth).join('.');
  }

  private scope(): string {
    if (this.phase === 'backward') return `(backward) ${this.bwdOwner ?? '?'}`;
    return this.fwdScope();
  }

  /**
   * Charge each backward kernel to the forward tape node whose gradient runs it: wrap the
   * gradient function of every node on the active tape (called at the end of the forward,
   * before the engine filters and walks the tape). The gradient closures run later, one per
   * input, so each is wrapped too.
   */
  tagTape(): void {
    const tape = (tf.engine().state as unknown as { activeTape?: TapeNodeLike[] }).activeTape;
    for (const node of tape ?? []) {
      const g = node.gradient;
      if (!g) continue;
      const out = node.outputs[0] as tf.Tensor | undefined;
      const owner = `${node.kernelName}@${(out && this.outScope.get(out.dataId)) ?? '?'}`;
      const within = <T>(fn: () => T): T => {
        const prev = this.bwdOwner;
        this.bwdOwner = owner;
        try {
          return fn();
        } finally {
          this.bwdOwner = prev;
        }
      };
      node.gradient = (dys) => {
        const fns = within(() => g(dys));
        const wrapped: Record<string, () => tf.Tensor> = {};
        for (const [k, fn] of Object.entries(fns)) wrapped[k] = () => within(fn);
        return wrapped;
      };
    }
  }

  /** Wrap one kernel function; nested kernels subtract their time from the caller's. */
  wrap(name: string, f: KernelFunc): KernelFunc {
    return (args) => {
      if (!this.on) return f(args);
      this.stack.push(0);
      const t0 = performance.now();
      const out = f(args);
      const total = performance.now() - t0;
      const nested = this.stack.pop() ?? 0;
      if (this.stack.length) this.stack[this.stack.length - 1] += total;
      const self = total - nested;
      const scope = this.scope();
      this.add(this.byKernel, name, self, 1);
      this.add(this.byScope, scope, self, 1);
      if (this.detailed.has(name)) {
        this.add(this.byShape, `${describe(name, args)}  ← ${scope}`, self, 1);
      }
      if (this.phase === 'forward' && this.stack.length === 0) {
        for (const o of Array.isArray(out) ? out : [out]) this.outScope.set(o.dataId, scope);
      }
      return out;
    };
  }

  reset(): void {
    this.byKernel.clear();
    this.byScope.clear();
    this.byShape.clear();
  }
}

interface TapeNodeLike {
  kernelName: string;
  outputs: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
}

/** `Name [shapes] {small attrs}` of one kernel call. */
function describe(name: string, args: Parameters<KernelFunc>[0]): string {
  const shapes = Object.values(args.inputs).map((t) => `[${(t as tf.TensorInfo).shape.join(',')}]`);
  const attrs = Object.entries((args.attrs ?? {}) as Record<string, unknown>)
    .filter(([, v]) => typeof v !== 'object' || (Array.isArray(v) && v.length <= 6))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  return `${name} ${shapes.join(' ')} ${attrs.join(' ')}`;
}

function instrument(clock: KernelClock, backend: string): number {
  const configs: KernelConfig[] = tf.getKernelsForBackend(backend);
  for (const k of configs) {
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({ ...k, kernelFunc: clock.wrap(k.kernelName, k.kernelFunc) });
  }
  return configs.length;
}

function table(title: string, map: Map<string, Cell>, reps: number, top: number): string {
  const rows = [...map.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((a, [, c]) => a + c.ms, 0);
  const wd = Math.min(120, Math.max(44, ...rows.slice(0, top).map(([k]) => k.length)));
  const lines = [
    `${title} (per step, mean of ${reps}; kernel total ${(total / reps).toFixed(1)} ms)`,
    `${'name'.padEnd(wd)} ${'count'.padStart(6)} ${'ms'.padStart(9)} ${'%'.padStart(6)} ${'max'.padStart(7)}`,
  ];
  for (const [k, c] of rows.slice(0, top)) {
    lines.push(
      `${k.slice(0, wd).padEnd(wd)} ${(c.count / reps).toFixed(0).padStart(6)} ${(c.ms / reps).toFixed(1).padStart(9)} ${((100 * c.ms) / total).toFixed(1).padStart(6)} ${c.max.toFixed(1).padStart(7)}`,
    );
  }
  if (rows.length > top) {
    const rest = rows.slice(top).reduce((a, [, c]) => a + c.ms, 0);
    lines.push(
      `${`(${rows.length - top} more)`.padEnd(wd)} ${''.padStart(6)} ${(rest / reps).toFixed(1).padStart(9)} ${((100 * rest) / total).toFixed(1).padStart(6)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const modelName = arg('model', 'offseg-t');
  const mode = arg('mode', 'both');
  const reps = Number(arg('reps', '3'));
  const top = Number(arg('top', '25'));
  const clock = new KernelClock();
  clock.depth = Number(arg('depth', '4'));
  for (const k of arg('shapes', '').split(',')) if (k) clock.detailed.add(k);
  const info = await selectBackend({ prefer: arg('backend', 'auto') as BackendName | 'auto' });
  const n = instrument(clock, tf.getBackend());
  const model = createModel(modelName, { numClasses: 19, seed: 0 });
  console.log(
    `# profile-step ${modelName} on ${info.name} (${info.threads} threads, simd ${info.simd}); ${n} kernels wrapped; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const runSteps = async (label: string, step: () => Promise<void>): Promise<void> => {
    clock.on = false;
    await step(); // warm-up: kernel setup, cached attention biases, heap growth
    clock.reset();
    const tensors0 = tf.memory().numTensors;
    const walls: number[] = [];
    const cpus: number[] = [];
    clock.on = true;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await step();
      const c = process.cpuUsage(c0);
      walls.push(performance.now() - t0);
      cpus.push((c.user + c.system) / 1000);
    }
    clock.on = false;
    const kernelMs = [...clock.byKernel.values()].reduce((a, c) => a + c.ms, 0) / reps;
    const wall = walls.reduce((a, b) => a + b, 0) / reps;
    console.log(
      `\n## ${label}: wall ${walls.map((w) => w.toFixed(0)).join(' ')} ms (mean ${wall.toFixed(0)}), process CPU ${cpus.map((w) => w.toFixed(0)).join(' ')} ms, in kernels ${kernelMs.toFixed(0)} ms, overhead ${(wall - kernelMs).toFixed(0)} ms; tensors ${tensors0} → ${tf.memory().numTensors}`,
    );
    console.log(table('by kernel', clock.byKernel, reps, top));
    console.log();
    console.log(table(`by scope (depth ${clock.depth})`, clock.byScope, reps, top));
    if (clock.byShape.size) {
      console.log();
      console.log(table('by shape (--shapes)', clock.byShape, reps, top));
    }
  };

  if (mode === 'infer' || mode === 'both') {
    const size = Number(arg('size', '512'));
    const b = Number(arg('batch', '1'));
    const x = tf.randomNormal([b, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    model.eval();
    await runSteps(`inference ${b}×${size}²`, async () => {
      clock.phase = 'forward';
      const { result } = traceOps(() => model.forward(x));
      await result.data();
      result.dispose();
    });
    x.dispose();
  }
  if (mode === 'train' || mode === 'both') {
    const size = Number(arg('train-size', '128'));
    const b = Number(arg('train-batch', '4'));
    const x = tf.randomNormal([b, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.randomUniformInt([b, size, size], 0, 19, 3) as tf.Tensor3D;
    const params = model.trainableVariables();
    model.train();
    await runSteps(`train step ${b}×${size}²`, async () => {
      clock.phase = 'forward';
      const { value, grads } = tf.variableGrads(() => {
        const { result } = traceOps(() => segCrossEntropy(model.forward(x), y));
        clock.tagTape();
        clock.phase = 'backward';
        return result;
      }, params);
      await value.data();
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
    });
  }
}

await main();
