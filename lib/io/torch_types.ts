/**
 * The records exchanged between the `.pth` reader (pth.ts, pth_tensor.ts), the writer
 * (pth_writer.ts) and the state-dict mapping (checkpoint.ts). A `.pth` file as `torch.save`
 * writes it is a zip archive holding `data.pkl` (a pickle of the top-level dict, tensors as
 * persistent ids) and one raw little-endian storage per tensor under `data/<id>`; pth.ts
 * documents the details.
 */
import type { PlainValue } from './pickle_writer.ts';

/** One tensor from a checkpoint, in PyTorch layout and C order. */
export interface TorchTensor {
  dtype: 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
  shape: number[];
  /** float tensors as Float32Array; integer tensors as Int32Array (int64 narrowed, checked). */
  data: Float32Array | Int32Array;
}

export interface TorchCheckpoint {
  /** The weights (see `weightsKey`), in file order. */
  stateDict: Map<string, TorchTensor>;
  /**
   * The top-level key the weights were found under ('state_dict', 'model', 'state_dict_ema'),
   * or undefined when the file is a bare dict of tensors.
   */
  weightsKey?: string;
  /** Top-level keys of the file other than `weightsKey` (e.g. meta, optimizer, message_hub). */
  otherKeys: string[];
  /** The file it came from (for messages). */
  source?: string;
  /** A JSON-like copy of the top-level `meta` dict, if any (foreign objects as '<class>'). */
  meta?: Record<string, PlainValue>;
}
