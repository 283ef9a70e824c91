/**
 * One photo through the dataset's test pipeline and the bounded-memory recipe: keep-ratio Resize
 * to the test scale (mmcv bilinear, as `applyTestPipeline`), normalise, whole or slide logits at
 * that size, resize to the photo's own size and argmax (./segment.ts). What mmseg's
 * `image_demo.py` / `MMSegInferencer` do for one image; shared by `offseg predict` and the
 * browser demo so both give the same label map for the same network.
 */
import type { RgbImage } from '../data/image_io.ts';
import { normalizeInto, type TestPipelineConfig } from '../data/transforms/pipeline.ts';
import { rescaleSize, resizeBilinearRgb } from '../data/transforms/geometric.ts';
import type { InferenceOptions } from './inference.ts';
import { predictLabels, type LogitsNet } from './segment.ts';

/** How a photo is tested: the dataset's test pipeline and inference mode. */
export interface PhotoTest {
  pipeline: TestPipelineConfig;
  inference: InferenceOptions;
}

export interface PhotoPrediction {
  /** uint8 [height · width] class ids at the photo's own size. */
  labels: Uint8Array;
  height: number;
  width: number;
  /** [h, w] the network saw after the keep-ratio Resize. */
  inputSize: [number, number];
}

/**
 * Segment `img` (RGB uint8 HWC, any size).
 * @throws RangeError when the resized image is empty or its logits would not fit in memory
 */
export async function segmentPhoto(
  net: LogitsNet,
  img: RgbImage,
  test: PhotoTest,
): Promise<PhotoPrediction> {
  let x = img;
  if (test.pipeline.scale) {
    const [w, h] = rescaleSize(img.width, img.height, test.pipeline.scale);
    if (w < 1 || h < 1)
      throw new RangeError(`${img.width}×${img.height} resizes to an empty ${w}×${h} image`);
    x = resizeBilinearRgb(img, w, h);
  }
  const data = normalizeInto(x, test.pipeline.mean, test.pipeline.std);
  const labels = await predictLabels(
    net,
    { data, height: x.height, width: x.width },
    [img.height, img.width],
    test.inference,
  );
  return { labels, height: img.height, width: img.width, inputSize: [x.height, x.width] };
}
