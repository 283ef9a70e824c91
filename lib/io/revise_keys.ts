/**
 * Checkpoint key → model key, as mmengine maps them before loading (`runner/checkpoint.py`,
 * `_load_checkpoint_to_model(..., revise_keys=[(r'^module\.', '')])`): each revision is a regex
 * substitution applied to every key in order, so weights saved from a `DataParallel` /
 * `DistributedDataParallel` wrapper (`module.backbone.…`) load into the bare model by default.
 * Then our two prefix options: `stripPrefix` keeps only the keys under a prefix and removes it
 * (a backbone out of a full-model checkpoint), `addPrefix` puts every key under one (a backbone
 * checkpoint into a full model, as mmseg's `init_cfg=dict(prefix='backbone.')` does the other way
 * round).
 */

/**
 * One revision: `[pattern, replacement]`. A string pattern is compiled as a regex; every match in
 * the key is replaced (Python's `re.sub`). The replacement uses JavaScript's syntax (`$1`, not
 * `\1`).
 */
export type KeyRevision = readonly [pattern: RegExp | string, replacement: string];

/** mmengine's default: weights saved from a (Distributed)DataParallel wrapper lose `module.`. */
export const DEFAULT_REVISE_KEYS: readonly KeyRevision[] = [[/^module\./, '']];

export interface KeyMapping {
  /** Regex substitutions applied first, in order (default `DEFAULT_REVISE_KEYS`; [] for none). */
  reviseKeys?: readonly KeyRevision[];
  /** Then keep only keys starting with this prefix and remove it (e.g. 'backbone.'). */
  stripPrefix?: string;
  /** Then put every key under this prefix (e.g. 'backbone.' for a backbone-only checkpoint). */
  addPrefix?: string;
}

/** Compile revisions once (global flag, as `re.sub` replaces every occurrence). */
export function compileRevisions(revisions: readonly KeyRevision[]): [RegExp, string][] {
  return revisions.map(([p, r]) => {
    const re = typeof p === 'string' ? new RegExp(p, 'g') : p;
    return [re.global ? re : new RegExp(re.source, re.flags + 'g'), r];
  });
}

/** A readable form of a revision for summaries: `'^module\.' → ''`. */
export function describeRevision([p, r]: KeyRevision): string {
  return `'${typeof p === 'string' ? p : p.source}' → '${r}'`;
}

/**
 * The model key a checkpoint key maps to, or undefined when `stripPrefix` drops it. `revised` is
 * true when a revision changed the key (counted for the load summary).
 */
export function mapKey(
  key: string,
  revisions: readonly [RegExp, string][],
  mapping: Pick<KeyMapping, 'stripPrefix' | 'addPrefix'>,
): { key: string; revised: boolean } | undefined {
  let k = key;
  for (const [re, r] of revisions) k = k.replace(re, r);
  const revised = k !== key;
  if (mapping.stripPrefix) {
    if (!k.startsWith(mapping.stripPrefix)) return undefined;
    k = k.slice(mapping.stripPrefix.length);
  }
  if (mapping.addPrefix) k = mapping.addPrefix + k;
  return { key: k, revised };
}
