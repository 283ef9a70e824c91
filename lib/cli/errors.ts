/**
 * Errors caused by the user's input and how the CLI prints them: one message naming the file or
 * option at fault, then a `fix:` line when the error carries one, no stack trace, exit code 2.
 */

/** A bad flag, a missing file, a bad value: printed as one message (and its fix), exit code 2. */
export class UserError extends Error {
  readonly fix: string | undefined;
  constructor(
    message: string,
    readonly exitCode = 2,
    fix?: string,
  ) {
    super(fix ? `${message}\n  fix: ${fix}` : message);
    this.name = 'UserError';
    this.fix = fix;
  }
}

/**
 * Error classes (by name, so lib code need not import the CLI) that describe the user's input:
 * configs, checkpoints, datasets, run folders, a diverged run. Any error carrying a `fix` counts
 * too.
 */
export const USER_ERROR_NAMES: ReadonlySet<string> = new Set([
  'UserError',
  'CheckpointError',
  'DatasetError',
  'ConfigError',
  'RunDirError',
  'TrainingDivergedError',
]);

/** Is `e` about the user's input (printed without a stack trace, exit code 2)? */
export function isUserError(e: unknown): e is Error & { fix?: string; exitCode?: number } {
  if (!(e instanceof Error)) return false;
  return USER_ERROR_NAMES.has(e.name) || typeof (e as { fix?: unknown }).fix === 'string';
}

/**
 * What the CLI prints for a user error: "offseg: <message>" and, if the class keeps its remedy
 * apart from the message, "  fix: <remedy>" (never twice).
 */
export function formatUserError(e: Error & { fix?: string }): string {
  const fix = e.fix && !e.message.includes(`fix: ${e.fix}`) ? `\n  fix: ${e.fix}` : '';
  return `offseg: ${e.message}${fix}\n`;
}
