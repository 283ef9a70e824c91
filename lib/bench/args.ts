/**
 * Command-line options of `npm run bench` (docs/training_speed.md). Parsing is pure so the tests can
 * check every rule; an unknown or malformed option is a `BenchArgError` (exit code 2) rather
 * than a silently ignored flag that starts a long run with the wrong settings.
 */

export const BENCH_MODELS = ['offseg-t', 'segformer-b0', 'segnext-t'] as const;
export type BenchBackend = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
const BACKENDS: readonly BenchBackend[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BenchOptions {
  json: boolean;
  quick: boolean;
  /** Timed runs per case (the median is reported). */
  runs: number;
  /** Untimed runs before them. */
  warmup: number;
  models: string[];
  backend: BenchBackend;
  /** Worker threads (wasm); undefined = the backend's default (OFFSEG_THREADS or the cores). */
  threads?: number;
  /** Run the pure-JS baseline (false with --no-baseline). */
  baseline: boolean;
  /** Measure only the pure-JS baseline (for a later --baseline-from); no cases, no latest.json. */
  baselineOnly: boolean;
  /** Activation recomputation in the train steps (runtime.gradCheckpoint of the loop). */
  gradCheckpoint: boolean;
  /** Reuse the baseline of an earlier result file instead of measuring it. */
  baselineFrom?: string;
  /** Crop of the baseline step and of the speed-up comparison (default 256). */
  baselineSize: number;
  /** Cap of the single pure-JS baseline step, seconds. */
  baselineTimeout: number;
  /** Cap of one benchmark case (one child process), seconds. */
  caseTimeout: number;
  /** Also time inference on ONNX Runtime (false with --no-onnx). */
  onnx: boolean;
  /** Only the inference cases (no training steps, no baseline). */
  inferOnly: boolean;
  help: boolean;
}

export class BenchArgError extends Error {
  override readonly name = 'BenchArgError';
}

export const DEFAULTS = {
  runs: 5,
  quickRuns: 3,
  warmup: 1,
  baselineTimeout: 1800,
  baselineSize: 256,
  caseTimeout: 1200,
} as const;

export const HELP = `Usage: npm run bench [-- options]

Inference (512², batch 1) and training steps (crop 512 and 256, batch 2) of OffSeg-T,
SegFormer-B0 and SegNeXt-T on the chosen backend, the same inference exported to ONNX and run
on ONNX Runtime (CPU, threads = cores) with its speed ratio to tfjs, plus the pure-JS cpu
backend on the OffSeg-T train step at crop 256 (batch 2) as the in-run baseline, and (with
offseg-t among the models) the proxy study's own step: offseg-t-pp, 64², batch 8, 12 classes.
Each case runs in its own process.
Results: results/bench/bench-<backend>-<timestamp>.{json,md} and results/bench/latest.json.

Options:
  --json                  last line of stdout is one JSON object (progress goes to stderr)
  --quick                 ${DEFAULTS.quickRuns} runs per case and no 512 training step
  --runs N                timed runs per case, median reported (default ${DEFAULTS.runs})
  --warmup N              untimed runs before them (default ${DEFAULTS.warmup})
  --models a,b            subset of ${BENCH_MODELS.join(', ')}
  --backend NAME          auto (default: best available), wasm, cpu, tensorflow, tensorflow-gpu
  --threads N             worker threads of the wasm backend (else OFFSEG_THREADS or the cores)
  --grad-checkpoint       train steps recompute activations (default; as runtime.gradCheckpoint:
                          true — without it OffSeg-T at crop >= 256 exceeds the 4 GiB WASM heap)
  --no-grad-checkpoint    plain autodiff (keeps every activation)
  --no-baseline           skip the pure-JS baseline (no speed-up reported)
  --no-onnx               skip the ONNX Runtime inference rows
  --infer-only            only the inference rows (tfjs and ONNX Runtime): no training, no baseline
  --baseline-from FILE    reuse the baseline of an earlier results/bench/*.json
  --baseline-only         measure only the baseline (file for a later --baseline-from)
  --baseline-size N       crop of the baseline step and the speed-up (default ${DEFAULTS.baselineSize})
  --baseline-timeout S    cap of the single pure-JS step in seconds (default ${DEFAULTS.baselineTimeout})
  --case-timeout S        cap of one case process in seconds (default ${DEFAULTS.caseTimeout})
  --help                  this text
`;

function positiveInt(flag: string, v: string | undefined, min = 1): number {
  if (v === undefined || v.startsWith('--')) throw new BenchArgError(`${flag} needs a value`);
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new BenchArgError(`${flag} must be an integer ≥ ${min}, got '${v}'`);
  }
  return n;
}

/** Parse `process.argv.slice(2)`. Throws BenchArgError on anything it does not know. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = {
    json: false,
    quick: false,
    runs: DEFAULTS.runs,
    warmup: DEFAULTS.warmup,
    models: [...BENCH_MODELS],
    backend: 'auto',
    baseline: true,
    baselineOnly: false,
    gradCheckpoint: true,
    baselineTimeout: DEFAULTS.baselineTimeout,
    baselineSize: DEFAULTS.baselineSize,
    caseTimeout: DEFAULTS.caseTimeout,
    onnx: true,
    inferOnly: false,
    help: false,
  };
  let runsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // Accept --flag=value as well as --flag value.
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--json':
        o.json = true;
        break;
      case '--quick':
        o.quick = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--runs':
        o.runs = positiveInt(flag, value());
        runsGiven = true;
        break;
      case '--warmup':
        o.warmup = positiveInt(flag, value(), 0);
        break;
      case '--threads':
        o.threads = positiveInt(flag, value());
        break;
      case '--baseline-timeout':
        o.baselineTimeout = positiveInt(flag, value());
        break;
      case '--baseline-size':
        o.baselineSize = positiveInt(flag, value(), 32);
        if (o.baselineSize % 32 !== 0) {
          throw new BenchArgError(
            `--baseline-size must be a multiple of 32, got ${o.baselineSize}`,
          );
        }
        break;
      case '--case-timeout':
        o.caseTimeout = positiveInt(flag, value());
        break;
      case '--grad-checkpoint':
        o.gradCheckpoint = true;
        break;
      case '--no-grad-checkpoint':
        o.gradCheckpoint = false;
        break;
      case '--baseline-only':
        o.baselineOnly = true;
        break;
      case '--no-baseline':
        o.baseline = false;
        break;
      case '--no-onnx':
        o.onnx = false;
        break;
      case '--infer-only':
        o.inferOnly = true;
        o.baseline = false;
        break;
      case '--baseline-from': {
        const v = value();
        if (!v || v.startsWith('--')) throw new BenchArgError('--baseline-from needs a file');
        o.baselineFrom = v;
        break;
      }
      case '--models': {
        const v = value();
        if (!v || v.startsWith('--')) throw new BenchArgError('--models needs a list');
        const list = v.split(',').map((s) => s.trim());
        const bad = list.filter((m) => !(BENCH_MODELS as readonly string[]).includes(m));
        if (bad.length || list.length === 0) {
          throw new BenchArgError(
            `unknown model ${bad.join(', ')} (valid: ${BENCH_MODELS.join(', ')})`,
          );
        }
        o.models = [...new Set(list)];
        break;
      }
      case '--backend': {
        const v = value();
        if (!v || !(BACKENDS as readonly string[]).includes(v)) {
          throw new BenchArgError(`--backend must be one of ${BACKENDS.join(', ')}, got '${v}'`);
        }
        o.backend = v as BenchBackend;
        break;
      }
      default:
        throw new BenchArgError(`unknown option '${a}' (see --help)`);
    }
  }
  if (o.quick && !runsGiven) o.runs = DEFAULTS.quickRuns;
  if (o.inferOnly && (o.baselineOnly || o.baselineFrom)) {
    throw new BenchArgError('--infer-only runs no baseline: drop --baseline-only/--baseline-from');
  }
  if (o.baselineOnly && (!o.baseline || o.baselineFrom)) {
    throw new BenchArgError('--baseline-only excludes --no-baseline and --baseline-from');
  }
  if (!o.baseline && o.baselineFrom) {
    throw new BenchArgError('--no-baseline and --baseline-from exclude each other');
  }
  return o;
}
