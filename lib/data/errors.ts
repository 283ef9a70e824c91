/**
 * One error type for every bad-input case on the data side: the message
 * names the file (or folder) involved, and `fix` says what to do about it.
 */
export type DatasetErrorKind =
  | 'missing-folder'
  | 'missing-label'
  | 'missing-image'
  | 'corrupt-image'
  | 'corrupt-label'
  | 'bad-label-values'
  | 'size-mismatch'
  | 'empty'
  | 'bad-config';

export class DatasetError extends Error {
  readonly kind: DatasetErrorKind;
  /** A one-line remedy, printed by the CLI after the message. */
  readonly fix: string;
  /** The file or folder at fault, when there is one. */
  readonly file: string | undefined;

  constructor(kind: DatasetErrorKind, message: string, fix: string, file?: string) {
    super(`${message}\n  fix: ${fix}`);
    this.name = 'DatasetError';
    this.kind = kind;
    this.fix = fix;
    this.file = file;
  }
}

/** At most `n` items of a list, then "… and K more". */
export function listSome(items: readonly string[], n = 5): string {
  const head = items.slice(0, n).join(', ');
  return items.length > n ? `${head}, … and ${items.length - n} more` : head;
}
