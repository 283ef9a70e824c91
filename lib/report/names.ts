/**
 * How a registry name is printed in figures and text: `offseg-b` → `OffSeg-B`,
 * `segformer-b0-ol` → `SegFormer-B0 + OL`, `segnext-t` → `SegNeXt-T`, the Table 6/7 ablations by
 * what they are. Labels follow the name a notebook uses, never a hard-coded model.
 */
const FAMILIES: readonly [string, string][] = [
  ['offseg', 'OffSeg'],
  ['segformer', 'SegFormer'],
  ['segnext', 'SegNeXt'],
];

const ABLATIONS: Readonly<Record<string, string>> = {
  'offseg-t-conv-pp': 'conv decoder, per-pixel',
  'offseg-t-pp': 'per-pixel (FreqFusion + 1×1 classifier)',
  'offseg-t-co': 'class offset only',
  'offseg-t-fo': 'feature offset only',
};

/** The printed name of a registry model (unknown names are returned unchanged). */
export function displayName(model: string): string {
  if (model in ABLATIONS) return ABLATIONS[model];
  const c = /^offseg-t-pp-c(\d+)$/.exec(model);
  if (c) return `per-pixel C = ${c[1]}`;
  for (const [prefix, family] of FAMILIES) {
    const m = new RegExp(`^${prefix}-([a-z0-9]+)(-ol)?$`).exec(model);
    if (m) return `${family}-${m[1].toUpperCase()}${m[2] ? ' + OL' : ''}`;
  }
  return model;
}
