/**
 * Gradients of dilated convolutions (dilation > 1), which tfjs-core refuses on every backend
 * ("dilation rates greater than 1 are not yet supported in gradients"). OffSeg's local
 * similarity reads 3×3 neighbours at dilation 2 (FreqFusion's local similarity, paper §3.3), so a model may well express it as
 * a dilated (depthwise) conv. The replacement gradient keeps tfjs' own function for
 * dilation 1 and composes the dilated case from the same backend-agnostic pieces as the WASM
 * kernels (./conv_input_grad.ts, ./conv_filter_grad.ts), so it works on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
// The originals must be registered before they are wrapped (see ./gradients.ts).
import './gradients.ts';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import {
  attr,
  convGeometry,
  type PadAttr,
  pair,
  toChannelsFirst,
  toChannelsLast,
  withOutSize,
} from './common.ts';
import { convFilterGrad, depthwiseFilterGrad } from './conv_filter_grad.ts';
import { convInputGrad } from './conv_input_grad.ts';

const MARK = Symbol('offseg-dilated-grad');
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

function dilated(attrs: NamedAttrMap): boolean {
  const [dh, dw] = pair(attr<number | number[] | undefined>(attrs, 'dilations'), 1);
  return dh !== 1 || dw !== 1;
}

function dilatedGrad(depthwise: boolean): NonNullable<GradConfig['gradFunc']> {
  return (dyIn, saved, attrs) => {
    const dy = dyIn as tf.Tensor4D;
    const [x, w] = saved as [tf.Tensor4D, tf.Tensor4D];
    const fmt = depthwise ? 'NHWC' : attr<string | undefined>(attrs, 'dataFormat');
    const xl = toChannelsLast(x, fmt);
    const dyl = toChannelsLast(dy, fmt);
    const geo0 = convGeometry(
      xl.shape,
      w.shape,
      attr<number | number[]>(attrs, 'strides'),
      attr<number | number[]>(attrs, 'dilations'),
      attr<PadAttr>(attrs, 'pad'),
      attr<Rounding>(attrs, 'dimRoundingMode'),
      depthwise,
    );
    const geo = withOutSize(geo0, dyl.shape);
    return {
      x: () => toChannelsFirst(convInputGrad(dyl, w, geo, depthwise), fmt),
      filter: () =>
        depthwise ? depthwiseFilterGrad(xl, dyl, geo, w.shape[3]) : convFilterGrad(xl, dyl, geo),
    };
  };
}

/** Extend the Conv2D and DepthwiseConv2dNative gradients to dilation > 1 (idempotent). */
export function registerDilatedConvGradients(): void {
  for (const [name, depthwise] of [
    ['Conv2D', false],
    ['DepthwiseConv2dNative', true],
  ] as const) {
    const orig = tf.getGradient(name);
    if (!orig || (orig as unknown as Record<symbol, boolean>)[MARK]) continue;
    const origFunc = orig.gradFunc;
    const ours = dilatedGrad(depthwise);
    const config: GradConfig = {
      ...orig,
      gradFunc: (dy, saved, attrs) =>
        dilated(attrs) ? ours(dy, saved, attrs) : origFunc(dy, saved, attrs),
    };
    (config as unknown as Record<symbol, boolean>)[MARK] = true;
    tf.registerGradient(config);
  }
}
