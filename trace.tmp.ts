import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from './lib/models/registry.ts';
import { segCrossEntropy } from './lib/train/loss.ts';
await tf.setBackend('cpu');
for (const name of ['offseg-t','offseg-t-conv-pp','segformer-b0-ol','segnext-t-ol']) {
  const m = createModel(name, { numClasses: 5, seed: 1 }); m.train();
  const x = tf.randomNormal([2, 64, 96, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const y = tf.randomUniformInt([2, 64, 96], 0, 5, 8) as tf.Tensor3D;
  const t0 = Date.now();
  const prof = await tf.profile(() => { const l = segCrossEntropy(m.forward(x), y); return l; });
  const names = new Set(prof.kernelNames);
  console.log(name, Date.now()-t0, 'ms', [...names].sort().join(' '));
}
