// The `ebb` command: offline tools for users' manifests. Every failure is a message and an exit
// code, never a stack trace.
import { runValidate } from './validate.ts';

const USAGE = `Usage: ebb <command> [options]

Commands:
  validate   Default and validate Knative manifests offline, with Knative's rules and messages.
  version    Print ebb's version.
  help       Print this help.

Run "ebb <command> --help" for a command's options.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'validate':
        return await runValidate(rest);
      case 'version':
      case '--version': {
        const pkg = (await import('../../package.json', { with: { type: 'json' } })) as {
          default: { version: string };
        };
        process.stdout.write(`ebb ${pkg.default.version}\n`);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`ebb: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    process.stderr.write(`ebb: ${describeError(error)}\n`);
    return 2;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const path = (error as NodeJS.ErrnoException).path;
    if (code === 'ENOENT' && path !== undefined) return `${path}: no such file or directory`;
    if (code === 'EACCES' && path !== undefined) return `${path}: permission denied`;
    return error.message;
  }
  return String(error);
}
