/**
 * mmengine's `paramwise_cfg.custom_keys` matching (`mmengine/optim/optimizer/default_constructor.py`; recipe in docs/training.md): for each parameter name,
 * custom keys are tried longest first (ties alphabetical) as substrings; the first match sets the
 * parameter's lr and weight-decay multipliers. In OffSeg this means every `decode_head.*`
 * parameter gets lr ×10 (`head` beats `norm`), the backbone's `talking_head*` too, and backbone
 * BNs named `…norm…` get no weight decay while BNs inside nn.Sequential (`q.1`, `proj.2`) do.
 */
export interface KeyRule {
  lrMult?: number;
  decayMult?: number;
}

export interface ParamGroupSpec {
  key: string;
  lrMult: number;
  decayMult: number;
  /** Which custom key matched ('' when none did). */
  matched: string;
}

export function orderedKeys(customKeys: Record<string, KeyRule>): string[] {
  return Object.keys(customKeys).sort(
    (a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0),
  );
}

export function matchParam(
  name: string,
  customKeys: Record<string, KeyRule>,
  order = orderedKeys(customKeys),
): ParamGroupSpec {
  for (const k of order) {
    if (name.includes(k)) {
      const r = customKeys[k];
      return { key: name, lrMult: r.lrMult ?? 1, decayMult: r.decayMult ?? 1, matched: k };
    }
  }
  return { key: name, lrMult: 1, decayMult: 1, matched: '' };
}

export function buildParamGroups(
  names: string[],
  customKeys: Record<string, KeyRule>,
): ParamGroupSpec[] {
  const order = orderedKeys(customKeys);
  return names.map((n) => matchParam(n, customKeys, order));
}
