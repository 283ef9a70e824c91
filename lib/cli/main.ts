/**
 * `offseg` command line: parse → call lib → print. No model logic lives here.
 *   offseg params  --model NAME --classes K [--json]
 *   offseg forward --model NAME --classes K --checkpoint F.pth --input IN.npy --output OUT.npy
 */
import { formatUserError, isUserError, UserError } from './errors.ts';
import { COMMANDS } from './commands.ts';
import { envString } from '../env.ts';

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  offseg ${n.padEnd(14)} ${c.summary}`);
  return `Usage: offseg <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'offseg <command> --help' for its options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) throw new UserError(`Unknown command '${name}'.\n${usage()}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`offseg ${name}: ${cmd.summary}\n${cmd.help}`);
    return 0;
  }
  return cmd.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (isUserError(e)) {
    process.stderr.write(formatUserError(e));
    process.exitCode = e.exitCode ?? 2;
  } else if (envString('OFFSEG_DEBUG') !== undefined) {
    throw e;
  } else {
    process.stderr.write(
      `offseg: ${(e as Error).message}\n(set OFFSEG_DEBUG=1 for a stack trace)\n`,
    );
    process.exitCode = 1;
  }
}
