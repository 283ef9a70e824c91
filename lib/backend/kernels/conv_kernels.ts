/**
 * Convolution backprop kernels for the WASM backend, composed from XNNPACK convolutions and
 * matrix products (docs/backends.md). Attribute handling follows the CPU kernels: geometry from
 * conv_util's computeConv2DInfo ('same' / 'valid' / a number / explicit pads, rounding mode),
 * NCHW data transposed to NHWC and back for the dense kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  attr,
  composite,
  convGeometry,
  type PadAttr,
  toChannelsFirst,
  toChannelsLast,
  withOutSize,
} from './common.ts';
import { convFilterGrad, depthwiseFilterGrad } from './conv_filter_grad.ts';
import { convInputGrad } from './conv_input_grad.ts';

type Shape4 = [number, number, number, number];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

function nhwcShape(shape: number[], dataFormat: string | undefined): Shape4 {
  const [a, b, c, d] = shape;
  return dataFormat === 'NCHW' ? [a, c, d, b] : [a, b, c, d];
}

const conv2DBackpropFilter: KernelFunc = ({ inputs, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const fmt = attr<string | undefined>(attrs, 'dataFormat');
  const geo0 = convGeometry(
    nhwcShape(x.shape, fmt),
    attr<number[]>(attrs, 'filterShape'),
    attr<number | number[]>(attrs, 'strides'),
    1,
    attr<PadAttr>(attrs, 'pad'),
    attr<Rounding>(attrs, 'dimRoundingMode'),
    false,
  );
  const geo = withOutSize(geo0, nhwcShape(dy.shape, fmt));
  return composite([x, dy], (tx, tdy) =>
    convFilterGrad(
      toChannelsLast(tx as tf.Tensor4D, fmt),
      toChannelsLast(tdy as tf.Tensor4D, fmt),
      geo,
    ),
  );
};

const conv2DBackpropInput: KernelFunc = ({ inputs, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const fmt = attr<string | undefined>(attrs, 'dataFormat');
  const geo0 = convGeometry(
    nhwcShape(attr<number[]>(attrs, 'inputShape'), fmt),
    filter.shape,
    attr<number | number[]>(attrs, 'strides'),
    1,
    attr<PadAttr>(attrs, 'pad'),
    attr<Rounding>(attrs, 'dimRoundingMode'),
    false,
  );
  const geo = withOutSize(geo0, nhwcShape(dy.shape, fmt));
  return composite([dy, filter], (tdy, tw) =>
    toChannelsFirst(
      convInputGrad(toChannelsLast(tdy as tf.Tensor4D, fmt), tw as tf.Tensor4D, geo, false),
      fmt,
    ),
  );
};

const depthwiseBackpropInput: KernelFunc = ({ inputs, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const geo0 = convGeometry(
    attr<number[]>(attrs, 'inputShape'),
    filter.shape,
    attr<number | number[]>(attrs, 'strides'),
    attr<number | number[]>(attrs, 'dilations'),
    attr<PadAttr>(attrs, 'pad'),
    attr<Rounding>(attrs, 'dimRoundingMode'),
    true,
  );
  const geo = withOutSize(geo0, dy.shape);
  return composite([dy, filter], (tdy, tw) =>
    convInputGrad(tdy as tf.Tensor4D, tw as tf.Tensor4D, geo, true),
  );
};

const depthwiseBackpropFilter: KernelFunc = ({ inputs, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const filterShape = attr<number[]>(attrs, 'filterShape');
  const geo0 = convGeometry(
    x.shape,
    filterShape,
    attr<number | number[]>(attrs, 'strides'),
    attr<number | number[]>(attrs, 'dilations'),
    attr<PadAttr>(attrs, 'pad'),
    attr<Rounding>(attrs, 'dimRoundingMode'),
    true,
  );
  const geo = withOutSize(geo0, dy.shape);
  return composite([x, dy], (tx, tdy) =>
    depthwiseFilterGrad(tx as tf.Tensor4D, tdy as tf.Tensor4D, geo, filterShape[3]),
  );
};

const wasm = (kernelName: string, kernelFunc: KernelFunc): KernelConfig => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc,
});

export const conv2DBackpropFilterConfig = wasm('Conv2DBackpropFilter', conv2DBackpropFilter);
/** Replaces the stock WASM kernel (a scalar C++ loop, ~1.5 GFLOP/s). */
export const conv2DBackpropInputConfig = wasm('Conv2DBackpropInput', conv2DBackpropInput);
export const depthwiseBackpropInputConfig = wasm(
  'DepthwiseConv2dNativeBackpropInput',
  depthwiseBackpropInput,
);
export const depthwiseBackpropFilterConfig = wasm(
  'DepthwiseConv2dNativeBackpropFilter',
  depthwiseBackpropFilter,
);
