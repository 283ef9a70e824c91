/**
 * Learning-rate schedule of every OffSeg/SegFormer/SegNeXt config (docs/training.md):
 * mmengine LinearLR (start_factor 1e-6, iterations [0, warmup)) then PolyLR (power, eta_min,
 * iterations [warmup, end)). Closed forms of mmengine's schedulers, evaluated per iteration.
 */
export interface ScheduleConfig {
  /** Warm-up length in iterations (1500). */
  warmupIters: number;
  /** LinearLR start factor (1e-6). */
  warmupFactor: number;
  /** PolyLR end iteration (usually max iterations; 80k in the COCO-Stuff T/L quirk). */
  polyEnd: number;
  /** PolyLR power (1.0). */
  power: number;
  /** PolyLR floor (0). */
  etaMin: number;
}

/** Multiplier of a group's base lr at iteration `it` (0-based, the value used for that step). */
export function lrFactor(it: number, s: ScheduleConfig): number {
  if (it < s.warmupIters) {
    return s.warmupFactor + (1 - s.warmupFactor) * (it / s.warmupIters);
  }
  const total = s.polyEnd - s.warmupIters;
  if (total <= 0) return 1;
  const t = Math.min(it - s.warmupIters, total);
  return Math.pow(1 - t / total, s.power);
}

/** lr of one group: eta_min + (base − eta_min)·poly, or base·linear during warm-up. */
export function lrAt(it: number, baseLr: number, s: ScheduleConfig): number {
  if (it < s.warmupIters) return baseLr * lrFactor(it, s);
  return s.etaMin + (baseLr - s.etaMin) * lrFactor(it, s);
}
