/**
 * Numbers QUOTED from the OffSeg paper (ICCV 2025, Tables 2–7). Nothing here is measured:
 * reports print these beside our measurements and tag them "quoted".
 */
export interface PaperComplexity {
  params: number; // M
  gflops: number; // G, as the paper reports them
}

/** Table 2 (OffSeg): params, ADE20K FLOPs @512², mIoU; Cityscapes FLOPs @2048×1024, mIoU; COCO-Stuff mIoU. */
export const TABLE2 = {
  'offseg-t': {
    params: 6.2,
    adeFlops: 5.3,
    adeMIoU: 44.2,
    csFlops: 44.8,
    csMIoU: 78.9,
    cocoFlops: 5.3,
    cocoMIoU: 41.9,
  },
  'offseg-b': {
    params: 13.0,
    adeFlops: 10.3,
    adeMIoU: 45.9,
    csFlops: 86.5,
    csMIoU: 80.5,
    cocoFlops: 10.3,
    cocoMIoU: 44.3,
  },
  'offseg-l': {
    params: 26.4,
    adeFlops: 17.1,
    adeMIoU: 48.5,
    csFlops: 143.4,
    csMIoU: 81.6,
    cocoFlops: 17.1,
    cocoMIoU: 46.0,
  },
} as const;

/** Table 3 (SegNeXt → +OL): params and ADE20K FLOPs / mIoU. */
export const TABLE3 = {
  'segnext-t': { params: 4.3, adeFlops: 6.6, adeMIoU: 41.1 },
  'segnext-t-ol': { params: 4.4, adeFlops: 7.2, adeMIoU: 43.0 },
  'segnext-s': { params: 13.9, adeFlops: 15.9, adeMIoU: 44.3 },
  'segnext-s-ol': { params: 14.1, adeFlops: 16.5, adeMIoU: 45.6 },
  'segnext-b': { params: 27.6, adeFlops: 34.9, adeMIoU: 48.5 },
  'segnext-b-ol': { params: 28.2, adeFlops: 34.8, adeMIoU: 49.4 },
} as const;

/** Table 4 (SegFormer → +OL): params and ADE20K FLOPs / mIoU. */
export const TABLE4 = {
  'segformer-b0': { params: 3.8, adeFlops: 8.4, adeMIoU: 37.4 },
  'segformer-b0-ol': { params: 3.9, adeFlops: 8.8, adeMIoU: 40.1 },
  'segformer-b1': { params: 13.7, adeFlops: 15.9, adeMIoU: 41.0 },
  'segformer-b1-ol': { params: 13.9, adeFlops: 16.3, adeMIoU: 43.7 },
  'segformer-b2': { params: 24.8, adeFlops: 25.9, adeMIoU: 45.6 },
  'segformer-b2-ol': { params: 24.9, adeFlops: 26.1, adeMIoU: 47.3 },
  'segformer-b3': { params: 44.6, adeFlops: 42.5, adeMIoU: 47.8 },
  'segformer-b3-ol': { params: 44.8, adeFlops: 42.8, adeMIoU: 49.5 },
  'segformer-b4': { params: 61.4, adeFlops: 59.2, adeMIoU: 48.5 },
  'segformer-b4-ol': { params: 61.6, adeFlops: 59.5, adeMIoU: 50.1 },
  'segformer-b5': { params: 82.0, adeFlops: 75.2, adeMIoU: 49.1 },
  'segformer-b5-ol': { params: 82.2, adeFlops: 75.5, adeMIoU: 50.6 },
} as const;

/** Table 5 (Mask2Former-Tiny → +OL, ADE20K 512², 160k): params and mIoU (no FLOPs given). */
export const TABLE5 = {
  'mask2former-swin-t': { params: 47.4, adeMIoU: 47.7 },
  'mask2former-swin-t-ol': { params: 47.6, adeMIoU: 50.3 },
} as const;

/** Table 6 (components of OffSeg-T, ADE20K). */
export const TABLE6 = {
  'offseg-t-conv-pp': { params: 5.9, gflops: 5.1, adeMIoU: 40.7, label: 'conv decoder, per-pixel' },
  'offseg-t-pp': { params: 6.1, gflops: 6.0, adeMIoU: 42.0, label: 'FreqFusion, per-pixel' },
  'offseg-t-co': { params: 6.2, gflops: 5.3, adeMIoU: 42.9, label: 'FreqFusion, class offset' },
  'offseg-t-fo': { params: 6.2, gflops: 5.3, adeMIoU: 43.5, label: 'FreqFusion, feature offset' },
  'offseg-t': { params: 6.2, gflops: 5.3, adeMIoU: 44.2, label: 'FreqFusion, both offsets' },
} as const;

/** Table 7 (per-pixel classifier, align width C). */
export const TABLE7 = {
  64: { params: 6.0, gflops: 4.7, adeMIoU: 41.2 },
  128: { params: 6.0, gflops: 5.1, adeMIoU: 41.7 },
  256: { params: 6.1, gflops: 6.0, adeMIoU: 42.0 },
  512: { params: 6.2, gflops: 7.7, adeMIoU: 42.8 },
  768: { params: 6.3, gflops: 9.4, adeMIoU: 42.9 },
  1024: { params: 6.4, gflops: 11.1, adeMIoU: 43.5 },
  2048: { params: 6.8, gflops: 17.9, adeMIoU: 43.0 },
} as const;
