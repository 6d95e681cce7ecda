// `npm run deploy` and `npm run undeploy`: install charts/ebb as release `ebb` in ebb-system with
// the helm the local cluster builds, on the cluster KUBECONFIG names or else on the local cluster,
// where the image dev.local/ebb is built from this checkout's Dockerfile and served by the local
// registry. It lives beside the local cluster because it depends on it (its helm, its kubeconfig,
// its registry); the chart itself works anywhere.
// A failure is a message, the pods that are not ready and why, and exit code 1; never a stack trace.
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  VersionApi,
} from '@kubernetes/client-node';
import { crdName, KINDS } from '../../src/apis/crds.ts';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { binary, pathExists, STATE_DIR, tool } from './paths.ts';
import { buildEbbImage, exportDebianBase } from './images/ebb-image.ts';
import { ImageStore } from './images/store.ts';
import { errorMessage } from './shell.ts';
import {
  crdOwnership,
  INSTALL_TIMEOUT,
  installArgs,
  LOCAL_IMAGE,
  NAMESPACE,
  podProblems,
  RELEASE,
  uninstallArgs,
  warningEvents,
} from './release.ts';

const CHART = fileURLToPath(new URL('../../charts/ebb', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
const TSCONFIG_BUILD = fileURLToPath(new URL('../../tsconfig.build.json', import.meta.url));

/** An expected failure: its message is all the user needs, so no stack trace. */
class Failure extends Error {}

let prefix = '[deploy]';
function say(message: string): void {
  process.stderr.write(`${prefix} ${message}\n`);
}

interface Target {
  kubeconfig: string;
  local: boolean;
  kubectl: string;
}

async function target(): Promise<Target> {
  const kubectl = tool('kubectl');
  const fromEnv = process.env.KUBECONFIG;
  const local = join(STATE_DIR, 'admin.kubeconfig');
  // KUBECONFIG naming the local cluster's own kubeconfig is the local cluster.
  if (fromEnv !== undefined && fromEnv !== '' && fromEnv !== local)
    return { kubeconfig: fromEnv, local: false, kubectl };
  if (!(await pathExists(local))) {
    throw new Failure(
      'no cluster: KUBECONFIG is not set and the local cluster is not up. Run `npm run cluster:up` first, or set KUBECONFIG.',
    );
  }
  return { kubeconfig: local, local: true, kubectl };
}

/** The helm the local cluster builds, or else one on PATH (a user's own cluster needs no build). */
async function helm(): Promise<string> {
  const path = binary('helm');
  if (await pathExists(path)) return path;
  if (await onPath('helm')) return 'helm';
  throw new Failure(
    `no helm: neither ${path} (built by \`npm run cluster:build\` with the local cluster's other binaries) nor helm on PATH. Install helm 3.8+ or run \`npm run cluster:build\`.`,
  );
}

function onPath(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, ['version'], { stdio: 'ignore' });
    child.on('error', () => {
      resolve(false);
    });
    child.on('exit', (code) => {
      resolve(code === 0);
    });
  });
}

function kubeConfig(t: Target): KubeConfig {
  const kc = new KubeConfig();
  // loadFromDefault reads KUBECONFIG, including a colon-separated list, as kubectl does.
  if (t.local) kc.loadFromFile(t.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}

/** Fails early, and plainly, when the cluster does not answer, before helm says it its own way. */
async function reachable(t: Target): Promise<string> {
  let kc: KubeConfig;
  try {
    kc = kubeConfig(t);
  } catch (error) {
    throw new Failure(`cannot read the kubeconfig ${t.kubeconfig}: ${errorMessage(error)}`);
  }
  const server = kc.getCurrentCluster()?.server ?? '(no server in the kubeconfig)';
  try {
    const version = await kc.makeApiClient(VersionApi).getCode();
    return version.gitVersion;
  } catch (error) {
    const hint = t.local ? ' Check it with `npm run cluster:status`.' : '';
    throw new Failure(`the cluster at ${server} does not answer: ${errorMessage(error)}.${hint}`);
  }
}

/** Runs a command with its output on the terminal; resolves with its exit code. */
function run(command: string, args: readonly string[], kubeconfig: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, KUBECONFIG: kubeconfig } });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

/** Why the release is not ready, as far as the cluster says; never throws. */
async function explain(t: Target): Promise<void> {
  try {
    const core = kubeConfig(t).makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: `app.kubernetes.io/instance=${RELEASE}`,
    });
    const problems = podProblems(pods.items);
    if (pods.items.length === 0) say(`no ebb pods in ${NAMESPACE}: the Deployments did not create any`);
    else if (problems.length > 0) say(`pods not ready:\n  ${problems.join('\n  ')}`);
    const warnings = warningEvents((await core.listNamespacedEvent({ namespace: NAMESPACE })).items);
    if (warnings.length > 0) say(`warning events in ${NAMESPACE}:\n  ${warnings.join('\n  ')}`);
  } catch (error) {
    say(`could not read the pods in ${NAMESPACE}: ${errorMessage(error)}`);
  }
  // With KUBECONFIG set, kubectl reads it too (and it may be a list, which --kubeconfig is not).
  const kubectl = `${t.kubectl}${t.local ? ` --kubeconfig ${t.kubeconfig}` : ''} -n ${NAMESPACE}`;
  say(`logs:   ${kubectl} logs deploy/ebb-controller   (or deploy/ebb-webhook)`);
  say(`status: ${kubectl} get pods,events`);
  if (t.local) {
    say(
      `the pods run ${LOCAL_IMAGE.repository}, which is bin/ebb.js in this checkout: \`npm run ebb -- controller\` or \`-- webhook\` runs the same code on this machine.`,
    );
  }
}

/** Lets the release own ebb's CRDs that exist without Helm's metadata (see crdOwnership). */
async function adoptCrds(t: Target): Promise<void> {
  const api = kubeConfig(t).makeApiClient(ApiextensionsV1Api);
  for (const kind of KINDS) {
    const name = crdName(kind);
    let crd;
    try {
      crd = await api.readCustomResourceDefinition({ name });
    } catch (error) {
      if ((error as { code?: number }).code === 404) continue;
      throw new Failure(`cannot read CRD ${name}: ${errorMessage(error)}`);
    }
    const ownership = crdOwnership(crd.metadata ?? {});
    if (ownership.kind === 'foreign') {
      throw new Failure(
        `CRD ${name} belongs to Helm release ${ownership.release}, not ${NAMESPACE}/${RELEASE}: uninstall that release, or install this chart with --set crds.install=false`,
      );
    }
    if (ownership.kind === 'adopt') {
      say(
        `adopting CRD ${name} into release ${RELEASE} (it was applied without Helm's labels, e.g. by chart 0.1.0)`,
      );
      await api.patchCustomResourceDefinition(
        { name, body: ownership.patch },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
  }
}

async function install(extra: readonly string[]): Promise<void> {
  const helmPath = await helm();
  const t = await target();
  if (!t.local && !extra.some((a) => a.startsWith('image.repository='))) {
    say(
      `KUBECONFIG is set, so deploying to that cluster. The image ${LOCAL_IMAGE.repository} exists only on the local cluster: pass \`-- --set image.repository=R --set image.tag=T --set image.pullPolicy=IfNotPresent\` for any other.`,
    );
  }
  const version = await reachable(t);
  let tag: string[] = [];
  if (t.local) {
    // Type errors read best from tsc itself, before the image build runs the same compile.
    say('checking the build (tsc -p tsconfig.build.json --noEmit)');
    const built = await run(process.execPath, [TSC, '-p', TSCONFIG_BUILD, '--noEmit'], t.kubeconfig);
    if (built !== 0) throw new Failure('the build failed; fix the type errors above and deploy again.');
    say(`building ${LOCAL_IMAGE.repository} from the Dockerfile (podman)`);
    const image = await buildEbbImage();
    const store = new ImageStore();
    await store.importOciLayout(image.dir, image.name, image.tag);
    // The suites' pods that need a shell and tar run this one.
    const debian = await exportDebianBase();
    await store.importOciLayout(debian.dir, debian.name, debian.tag);
    say(
      `${image.name}:${image.tag} is in the local registry (${image.timings.map((s) => s.join(' ')).join(', ')})`,
    );
    tag = ['--set', `image.tag=${image.tag}`];
  }
  say(
    `installing ${CHART} as release ${RELEASE} in namespace ${NAMESPACE} on Kubernetes ${version} (KUBECONFIG=${t.kubeconfig}); waiting up to ${INSTALL_TIMEOUT} for every pod to be ready`,
  );
  if (!extra.includes('crds.install=false')) await adoptCrds(t);
  const started = Date.now();
  const code = await run(helmPath, installArgs(CHART, [...tag, ...extra]), t.kubeconfig);
  if (code !== 0) {
    await explain(t);
    throw new Failure(
      `helm upgrade --install exited with code ${code}; the ebb release is not ready (see above)`,
    );
  }
  const deployments = await kubeConfig(t)
    .makeApiClient(AppsV1Api)
    .listNamespacedDeployment({
      namespace: NAMESPACE,
      labelSelector: `app.kubernetes.io/instance=${RELEASE}`,
    });
  const ready = deployments.items.map(
    (d) => `${d.metadata?.name ?? '?'} ${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
  );
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${ready.join(', ')}`);
}

async function namespaceGone(core: CoreV1Api): Promise<boolean> {
  try {
    await core.readNamespace({ name: NAMESPACE });
    return false;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return true;
    throw error;
  }
}

async function uninstall(): Promise<void> {
  const helmPath = await helm();
  const t = await target();
  await reachable(t);
  say(`uninstalling release ${RELEASE} from ${NAMESPACE} (KUBECONFIG=${t.kubeconfig})`);
  const code = await run(helmPath, uninstallArgs(), t.kubeconfig);
  if (code !== 0) throw new Failure(`helm uninstall exited with code ${code} (see above)`);
  const core = kubeConfig(t).makeApiClient(CoreV1Api);
  if (!(await namespaceGone(core))) {
    say(`deleting namespace ${NAMESPACE}`);
    await core.deleteNamespace({ name: NAMESPACE }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
    const deadline = Date.now() + 120_000;
    while (!(await namespaceGone(core))) {
      if (Date.now() > deadline) {
        throw new Failure(
          `namespace ${NAMESPACE} still exists after 2 min; see \`kubectl get namespace ${NAMESPACE} -o yaml\` (status.conditions)`,
        );
      }
      await sleep(500);
    }
  }
  say(
    'done. The CRDs stay installed (the chart marks them helm.sh/resource-policy: keep, as deleting them would delete every Knative object in the cluster); to remove them and those objects: kubectl delete -f crds/',
  );
}

const USAGE = 'usage: deploy.ts install [helm flags...] | uninstall';

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'install':
      await install(rest);
      return 0;
    case 'uninstall':
      prefix = '[undeploy]';
      if (rest.length > 0) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      await uninstall();
      return 0;
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

if (import.meta.main) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    say(`failed: ${errorMessage(error)}`);
    process.exitCode = 1;
  }
}
