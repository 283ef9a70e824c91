/**
 * Weight-initialisation schemes shared by several backbones, applied to an already built layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normal, reinit } from '../core/init.ts';
import type { Conv2d } from './conv.ts';

/**
 * mmseg's MiT/MSCAN `init_weights` for a Conv2d (`mmseg/models/backbones/mit.py`, `mscan.py`):
 * weight ~ N(0, √(2/fan_out)) with fan_out = kH·kW·C_out/groups, bias 0. Draws from the
 * current `withInitSeed` scope.
 */
export function fanOutNormalInit(conv: Conv2d): void {
  const [kh, kw] = conv.kernel;
  const groups = conv.depthwise ? conv.outChannels : 1;
  const fanOut = Math.floor((kh * kw * conv.outChannels) / groups);
  reinit(conv.weight, normal(conv.weight.shape, Math.sqrt(2 / fanOut)));
  if (conv.bias) reinit(conv.bias, tf.zeros(conv.bias.shape));
}
