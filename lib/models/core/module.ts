/**
 * A small PyTorch-style module tree over tf.Variables.
 *
 * Why: checkpoints, parameter groups (mmengine matches on dotted names) and the complexity
 * counter all need the *official* dotted key of every parameter. Each module registers its
 * parameters, buffers and children under the names the official PyTorch module uses, so
 * `namedParameters()` yields keys such as `backbone.network.0.0.mlp.fc1.weight`.
 *
 * Tensors are stored in the layout our NHWC ops want (e.g. conv weights as [kH,kW,Cin,Cout]);
 * each entry carries a `layout` that converts to and from PyTorch's layout, so loading a
 * `.pth`, saving one and comparing gradients with the reference are all exact.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './init.ts';

/**
 * How a stored tensor relates to PyTorch's:
 * - identity: same shape and order;
 * - conv: torch (O, I, kH, kW) ↔ ours (kH, kW, I, O);
 * - dwconv: torch (C, 1, kH, kW) ↔ ours (kH, kW, C, 1);
 * - linear: torch (out, in) ↔ ours (in, out).
 */
export type Layout = 'identity' | 'conv' | 'dwconv' | 'linear';

export interface Entry {
  variable: tf.Variable;
  layout: Layout;
  /** Buffers only: false for buffers that are not part of the official state_dict. */
  persistent: boolean;
}

export interface NamedEntry extends Entry {
  key: string;
}

export function torchToOurs(t: tf.Tensor, layout: Layout): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'identity':
        return tf.clone(t);
      case 'conv':
        return tf.transpose(t, [2, 3, 1, 0]);
      case 'dwconv':
        return tf.transpose(t, [2, 3, 0, 1]);
      case 'linear':
        return tf.transpose(t, [1, 0]);
    }
  });
}

export function oursToTorch(t: tf.Tensor, layout: Layout): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'identity':
        return tf.clone(t);
      case 'conv':
        return tf.transpose(t, [3, 2, 0, 1]);
      case 'dwconv':
        return tf.transpose(t, [2, 3, 0, 1]);
      case 'linear':
        return tf.transpose(t, [1, 0]);
    }
  });
}

/** Shape a tensor of ours has in PyTorch. */
export function torchShape(shape: readonly number[], layout: Layout): number[] {
  switch (layout) {
    case 'identity':
      return [...shape];
    case 'conv':
      return [shape[3], shape[2], shape[0], shape[1]];
    case 'dwconv':
      return [shape[2], shape[3], shape[0], shape[1]];
    case 'linear':
      return [shape[1], shape[0]];
  }
}

let variableCounter = 0;

export abstract class Module {
  /** Train mode: BatchNorm uses batch statistics and updates running stats; drop-path is active. */
  training = false;
  /** Dotted path from the root, set by `assignPaths()`; used to label traced ops. */
  path = '';
  private readonly params = new Map<string, Entry>();
  private readonly buffers = new Map<string, Entry>();
  private readonly children = new Map<string, Module>();
  private readonly rngs = new Map<string, Rng>();

  /** Register a trainable parameter (takes ownership of `init`). */
  protected param(name: string, init: tf.Tensor, layout: Layout = 'identity'): tf.Variable {
    const v = tf.variable(init, true, `p${variableCounter++}_${name}`);
    init.dispose();
    this.params.set(name, { variable: v, layout, persistent: true });
    return v;
  }

  /** Register a non-trainable buffer (BN running stats, index tables…). */
  protected buffer(
    name: string,
    init: tf.Tensor,
    persistent = true,
    layout: Layout = 'identity',
  ): tf.Variable {
    const v = tf.variable(init, false, `b${variableCounter++}_${name}`, init.dtype);
    init.dispose();
    this.buffers.set(name, { variable: v, layout, persistent });
    return v;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /**
   * Register a random generator used in forward passes (drop-path masks, NMF bases…), so the
   * training loop can checkpoint and restore its state for an exact resume.
   */
  protected registerRng(name: string, r: Rng): Rng {
    this.rngs.set(name, r);
    return r;
  }

  /** Every registered generator by dotted path; one generator shared by several modules appears once. */
  namedRngs(): [string, Rng][] {
    const out: [string, Rng][] = [];
    const seen = new Set<Rng>();
    for (const [p, m] of this.namedModules()) {
      for (const [n, r] of m.rngs) {
        if (seen.has(r)) continue;
        seen.add(r);
        out.push([p ? `${p}.${n}` : n, r]);
      }
    }
    return out;
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, c] of this.children) yield* c.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  namedParameters(): NamedEntry[] {
    const out: NamedEntry[] = [];
    for (const [p, m] of this.namedModules()) {
      for (const [n, e] of m.params) out.push({ key: p ? `${p}.${n}` : n, ...e });
    }
    return out;
  }

  namedBuffers(): NamedEntry[] {
    const out: NamedEntry[] = [];
    for (const [p, m] of this.namedModules()) {
      for (const [n, e] of m.buffers) out.push({ key: p ? `${p}.${n}` : n, ...e });
    }
    return out;
  }

  /** Parameters and persistent buffers: the keys of the official state_dict. */
  stateEntries(): NamedEntry[] {
    return [...this.namedParameters(), ...this.namedBuffers().filter((b) => b.persistent)];
  }

  trainableVariables(): tf.Variable[] {
    return this.namedParameters().map((e) => e.variable);
  }

  numParams(): number {
    return this.namedParameters().reduce((a, e) => a + e.variable.size, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Label every module with its dotted path (call once on the root after construction). */
  assignPaths(prefix = ''): this {
    for (const [p, m] of this.namedModules()) m.path = prefix ? (p ? `${prefix}.${p}` : prefix) : p;
    return this;
  }

  dispose(): void {
    for (const e of [...this.namedParameters(), ...this.namedBuffers()]) e.variable.dispose();
    for (const [, m] of this.namedModules()) m.clearCache();
  }

  /** Drop tensors cached per input size (e.g. resized attention biases). */
  clearCache(): void {}
}
