// The `ebb` command: offline tools for users' manifests. Every failure is a message and an exit
// code, never a stack trace.
import { runValidate, type Output } from './validate.ts';

const USAGE = `Usage: ebb <command> [options]

Commands:
  validate     Default and validate Knative manifests offline, with Knative's rules and messages.
  controller   Run the controller (reconciles the serving kinds) against KUBECONFIG or in-cluster.
  webhook      Run the admission webhook (defaulting and validation over HTTPS).
  gateway      Run the gateway (routes, splits and buffers requests; reports load).
  autoscaler   Run the autoscaler (Knative's KPA: scales each revision from the gateway's stats).
  version      Print ebb's version.
  help         Print this help.

Run "ebb <command> --help" for a command's options.
`;

export async function main(argv: readonly string[], out: Output = process): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'validate':
        return await runValidate(rest, out);
      case 'controller': {
        // Loaded on demand: the offline commands should not pay for the Kubernetes client.
        const { runController } = await import('../cmd/controller.ts');
        return exitWhenDone(await runController());
      }
      case 'webhook': {
        const { runWebhook } = await import('../cmd/webhook.ts');
        return exitWhenDone(await runWebhook(rest));
      }
      case 'gateway': {
        const { runGateway } = await import('../cmd/gateway.ts');
        return exitWhenDone(await runGateway());
      }
      case 'autoscaler': {
        const { runAutoscaler } = await import('../cmd/autoscaler.ts');
        return exitWhenDone(await runAutoscaler());
      }
      case 'version':
      case '--version': {
        const pkg = (await import('../../package.json', { with: { type: 'json' } })) as {
          default: { version: string };
        };
        out.stdout.write(`ebb ${pkg.default.version}\n`);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        out.stderr.write(`ebb: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    out.stderr.write(`ebb: ${describeError(error)}\n`);
    return 2;
  }
}

/**
 * A server that has shut down may still hold idle keep-alive sockets to the API server, which keep
 * Node running until the kubelet's SIGKILL. Give the event loop a moment to drain, then exit.
 */
function exitWhenDone(code: number): number {
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

export function describeError(error: unknown): string {
  // Duck-typed: errors from Node's fs may come from another realm, where instanceof fails.
  if (typeof error === 'object' && error !== null) {
    const { code, path, message } = error as { code?: unknown; path?: unknown; message?: unknown };
    if (code === 'ENOENT' && typeof path === 'string') return `${path}: no such file or directory`;
    if (code === 'EACCES' && typeof path === 'string') return `${path}: permission denied`;
    if (code === 'EISDIR' && typeof path === 'string') return `${path}: is a directory`;
    if (typeof message === 'string') return message;
  }
  return String(error);
}
