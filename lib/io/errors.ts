/**
 * A checkpoint or array file that cannot be used as given (wrong format, shapes, contents).
 * `fix`, when given, is the one-line remedy the CLI prints after the message.
 */
export class CheckpointError extends Error {
  readonly fix: string | undefined;
  constructor(message: string, fix?: string) {
    super(fix ? `${message}\n  fix: ${fix}` : message);
    this.name = 'CheckpointError';
    this.fix = fix;
  }
}
