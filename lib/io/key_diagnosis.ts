/**
 * Why a checkpoint's keys do not land in a model, and which prefix mapping would make them land:
 * the usual causes are a wrapper prefix (`module.` from DataParallel, `_orig_mod.` from
 * `torch.compile`, `model.`), a part-of-model checkpoint loaded without its prefix (a backbone
 * without `backbone.`), a whole-model checkpoint loaded with one, or the checkpoint of another
 * model. The search tries every pair (strip one of the checkpoint's leading key segments, add one
 * of the model's) and keeps the pair that maps the most keys.
 */

/** A prefix mapping and how many checkpoint keys it sends to a model key. */
export interface PrefixFit {
  stripPrefix: string;
  addPrefix: string;
  matches: number;
}

/** The most frequent leading 1- and 2-segment prefixes ('a.', 'a.b.') of `keys`, at most `n`. */
function leadingPrefixes(keys: Iterable<string>, n = 24): string[] {
  const count = new Map<string, number>();
  for (const k of keys) {
    const parts = k.split('.');
    for (let d = 1; d <= 2 && d < parts.length; d++) {
      const p = parts.slice(0, d).join('.') + '.';
      count.set(p, (count.get(p) ?? 0) + 1);
    }
  }
  return [...count]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([p]) => p);
}

/**
 * The (stripPrefix, addPrefix) pair that maps the most `checkpointKeys` onto `modelKeys`; ties go
 * to the pair that changes less (no prefix beats a prefix). O(48² · |checkpointKeys|).
 */
export function bestPrefixFit(
  modelKeys: readonly string[],
  checkpointKeys: readonly string[],
): PrefixFit {
  const model = new Set(modelKeys);
  const strips = ['', ...leadingPrefixes(checkpointKeys)];
  const adds = ['', ...leadingPrefixes(modelKeys)];
  let best: PrefixFit = { stripPrefix: '', addPrefix: '', matches: -1 };
  const changes = (f: PrefixFit) => (f.stripPrefix ? 1 : 0) + (f.addPrefix ? 1 : 0);
  for (const s of strips)
    for (const a of adds) {
      let matches = 0;
      for (const k of checkpointKeys)
        if (k.startsWith(s) && model.has(a + k.slice(s.length))) matches++;
      const fit = { stripPrefix: s, addPrefix: a, matches };
      if (matches > best.matches || (matches === best.matches && changes(fit) < changes(best)))
        best = fit;
    }
  return best;
}

/** How the user changes the key mapping, in the words of the entry point they used. */
export interface LoadHints {
  /** 'flag': `--strip-prefix X`; 'config': `model.init.stripPrefix="X"`; 'option': `stripPrefix: 'X'`. */
  style: 'flag' | 'config' | 'option';
  stripPrefix: string;
  addPrefix: string;
  skipMismatched: string;
  /** Where the required fraction is set (omitted: every tensor is required). */
  minLoaded?: string;
  /** What names the model (e.g. '--model/--classes' or 'model.name/model.numClasses'). */
  model: string;
}

export const OPTION_HINTS: LoadHints = {
  style: 'option',
  stripPrefix: 'stripPrefix',
  addPrefix: 'addPrefix',
  skipMismatched: 'skipMismatched',
  minLoaded: 'minLoaded',
  model: 'the model',
};

/** "--add-prefix backbone." / "model.init.prefix=\"backbone.\"" / "addPrefix: 'backbone.'". */
export function setting(hints: LoadHints, name: string, value: string | boolean): string {
  if (hints.style === 'flag')
    return value === true
      ? name
      : value === '' || value === false
        ? `no ${name}`
        : `${name} ${value}`;
  if (hints.style === 'config') return `${name}=${JSON.stringify(value)}`;
  return `${name}: ${JSON.stringify(value)}`;
}

/**
 * The cause and the fix for a load that filled too little of the model, given the checkpoint keys
 * after the revisions (`^module\.` stripped by default) and the prefixes the user set. Undefined
 * when no prefix mapping maps more keys than the user's and `minLoaded` of its own scope.
 */
export function diagnoseKeys(
  modelKeys: readonly string[],
  checkpointKeys: readonly string[],
  used: { stripPrefix: string; addPrefix: string; loaded: number; minLoaded: number },
  hints: LoadHints,
): { cause: string; fix: string } | undefined {
  const fit = bestPrefixFit(modelKeys, checkpointKeys);
  // The fit must fill its own scope (the model keys under its addPrefix) as the user asked.
  const scope = modelKeys.filter((k) => k.startsWith(fit.addPrefix)).length;
  if (fit.matches <= used.loaded || fit.matches < Math.ceil(used.minLoaded * scope))
    return undefined;
  const changes: string[] = [];
  const causes: string[] = [];
  if (fit.stripPrefix !== used.stripPrefix) {
    changes.push(setting(hints, hints.stripPrefix, fit.stripPrefix));
    causes.push(
      fit.stripPrefix
        ? `its keys carry the prefix '${fit.stripPrefix}'`
        : `its keys do not carry the prefix '${used.stripPrefix}'`,
    );
  }
  if (fit.addPrefix !== used.addPrefix) {
    changes.push(setting(hints, hints.addPrefix, fit.addPrefix));
    causes.push(
      fit.addPrefix
        ? `it holds only part of the model (its keys lack '${fit.addPrefix}')`
        : `it holds the whole model, so the prefix '${used.addPrefix}' does not belong`,
    );
  }
  return {
    cause: `${causes.join(' and ')}: ${fit.matches} of its ${checkpointKeys.length} keys match with ${changes.join(' and ')}`,
    fix: `load it with ${changes.join(' and ')}`,
  };
}
