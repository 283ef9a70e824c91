/**
 * API CONTRACT (being implemented by the lib/io helper): reading PyTorch `.pth` checkpoints and
 * loading official mmseg state_dicts into our modules.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../models/core/module.ts';

/** One tensor from a checkpoint, in PyTorch layout and C order. */
export interface TorchTensor {
  dtype: 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
  shape: number[];
  /** float tensors as Float32Array; integer tensors as Int32Array (int64 narrowed, checked). */
  data: Float32Array | Int32Array;
}

export interface TorchCheckpoint {
  /** The `state_dict` (or the top-level dict if the file holds a bare state_dict), in file order. */
  stateDict: Map<string, TorchTensor>;
  /** Top-level keys of the file other than state_dict (e.g. meta, optimizer, message_hub). */
  otherKeys: string[];
}

export interface LoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
}

export interface LoadOptions {
  /** Strip this prefix from checkpoint keys first (e.g. 'backbone.'), keeping only keys with it. */
  stripPrefix?: string;
  /** Add this prefix to checkpoint keys (e.g. 'decode_head.freqfusions.0.' for a single module). */
  addPrefix?: string;
  /** Checkpoint keys that may be present without a home (regexes). Defaults: KNOWN_UNUSED. */
  allowUnexpected?: RegExp[];
  /** Throw if anything is missing or unexpected beyond the allowed list (default true). */
  strict?: boolean;
}

export declare function readTorchCheckpoint(path: string): TorchCheckpoint;
export declare function loadStateDict(model: Module, ckpt: TorchCheckpoint, opts?: LoadOptions): LoadReport;
export declare function torchTensorToTf(t: TorchTensor): tf.Tensor;
