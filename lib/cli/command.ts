/**
 * The shape of one `offseg <command>`: every command file exports values of this type and
 * `commands.ts` lists them, so command files never import the table that imports them.
 */
export interface Command {
  /** One line for `offseg --help`. */
  summary: string;
  /** The full `offseg <command> --help` text. */
  help: string;
  /** Parses `argv` (the arguments after the command name) and runs; resolves to the exit code. */
  run: (argv: string[]) => Promise<number>;
}
