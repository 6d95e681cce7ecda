// `npm run dev:controller`: runs ebb's controller as a local process against KUBECONFIG, or the
// local cluster when KUBECONFIG is unset, for debugging with logs on the terminal. It campaigns for
// the same Lease as the installed controller: scale that one to zero to make this one lead.
import { join } from 'node:path';
import { STATE_DIR } from './paths.ts';

process.env.KUBECONFIG ??= join(STATE_DIR, 'admin.kubeconfig');
process.env.METRICS_PORT ??= '9091';
process.env.POD_NAME ??= `dev-controller-${String(process.pid)}`;
process.stderr.write(
  `[dev:controller] KUBECONFIG=${process.env.KUBECONFIG}; metrics on :${process.env.METRICS_PORT}/metrics.\n` +
    '[dev:controller] An installed controller keeps the lease; to lead, run\n' +
    '[dev:controller]   kubectl -n ebb-system scale deployment/ebb-controller --replicas=0\n',
);
const { runController } = await import('../../src/cmd/controller.ts');
process.exitCode = await runController();
