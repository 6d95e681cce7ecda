// Running the host tools the cluster needs (ip, nft, openssl), with errors that say which
// command failed and what it printed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** An error's message with its cause (fetch reports "fetch failed" and puts the reason there),
 * unless the message already says it. */
export function errorMessage(error: unknown): string {
  const e = error as { message?: string; cause?: { message?: string } };
  const cause = e.cause?.message;
  const message = String(e.message ?? error);
  return cause === undefined || cause === '' || message.includes(cause) ? message : `${message} (${cause})`;
}

export class CommandError extends Error {
  readonly stderr: string;
  constructor(command: string, stderr: string) {
    super(`${command} failed: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.stderr = stderr;
  }
}

export async function sh(command: string, args: readonly string[], input?: string): Promise<string> {
  try {
    if (input !== undefined) {
      return await new Promise<string>((resolve, reject) => {
        const child = execFile(command, [...args], (error, stdout, stderr) => {
          if (error) reject(new CommandError(`${command} ${args.join(' ')}`, stderr || error.message));
          else resolve(stdout);
        });
        child.stdin?.end(input);
      });
    }
    const { stdout } = await execFileAsync(command, [...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    if (error instanceof CommandError) throw error;
    const e = error as { stderr?: string; message?: string };
    throw new CommandError(`${command} ${args.join(' ')}`, e.stderr ?? e.message ?? String(error));
  }
}

/** Like sh, but a failure is an answer (false), not an error. */
export async function succeeds(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await execFileAsync(command, [...args]);
    return true;
  } catch {
    return false;
  }
}
