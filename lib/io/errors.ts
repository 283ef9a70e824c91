/** A checkpoint or array file that cannot be used as given (wrong format, shapes, contents). */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}
