/** Small typed helpers over node:util parseArgs that turn bad flags into UserErrors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `--classes -5`: node's parseArgs takes `-5` for an option and fails with its own message about
 * ambiguity. A negative number after a string option is its value, so join the two
 * (`--classes=-5`) and let the option's own check say what is wrong with it.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** Parse `argv` against `options` (strict: unknown flags are UserErrors). */
export function parse(argv: string[], options: Options) {
  try {
    return parseArgs({
      args: joinNegativeValues(argv, options),
      options,
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (e) {
    throw new UserError(`${(e as Error).message}`);
  }
}

export function requireString(v: unknown, flag: string): string {
  if (typeof v !== 'string' || v.length === 0)
    throw new UserError(`missing required option --${flag}`);
  return v;
}

export function intOption(v: unknown, flag: string, fallback?: number): number {
  if (v === undefined) {
    if (fallback === undefined) throw new UserError(`missing required option --${flag}`);
    return fallback;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError(`--${flag} must be a positive integer, got '${String(v)}'`);
  return n;
}

/** "512", "512x1024" or "1024,2048" → [H, W]. */
export function sizeOption(v: unknown, flag: string, fallback: [number, number]): [number, number] {
  if (v === undefined) return fallback;
  const parts = String(v).split(/[x,×]/).map(Number);
  if (parts.length === 1) parts.push(parts[0]);
  if (parts.length !== 2 || parts.some((p) => !Number.isInteger(p) || p < 1)) {
    throw new UserError(`--${flag} must look like 512 or 512x1024 (H x W), got '${String(v)}'`);
  }
  return [parts[0], parts[1]];
}

/**
 * mmseg-style `--cfg-options k=v k2=v2 …`: every token after the flag up to the next `--flag`.
 * Returns the remaining argv and the overrides.
 */
export function splitCfgOptions(argv: string[]): { argv: string[]; overrides: string[] } {
  const rest: string[] = [];
  const overrides: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cfg-options') {
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) overrides.push(argv[++i]);
    } else rest.push(argv[i]);
  }
  return { argv: rest, overrides };
}
