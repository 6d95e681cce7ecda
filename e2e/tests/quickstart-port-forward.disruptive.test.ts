// `npm run quickstart -- --use-current-context` from a machine that reaches the cluster's API
// server and nothing else, as a laptop reaches a cloud cluster: the gateway's ClusterIP is not
// routable from there, so the quickstart must fall back to `kubectl port-forward` (through the API
// server and the kubelet) for its requests, the one from zero included. The "laptop" is a network
// namespace of the test's own with one veth to the host and a route to the API server's address
// only. Disruptive: the quickstart upgrades ebb's release (with the image already installed).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STATE_DIR } from '../cluster/paths.ts';
import { sh } from '../cluster/shell.ts';
import { BRIDGE_IP } from '../cluster/topology.ts';
import { apps, custom } from './kube.ts';

const NETNS = 'ebb-e2e-laptop';
const HOST_END = 'veb-laptop';
/** A /30 of its own for the veth, outside every cluster range. */
const HOST_IP = '10.250.250.1';
const LAPTOP_IP = '10.250.250.2';
// The quickstart itself, not bin/quickstart.js: that wrapper's job (npm ci under an older Node)
// is not what this tests, and it would reinstall node_modules/ under the running suites.
const QUICKSTART = fileURLToPath(new URL('../cluster/quickstart.ts', import.meta.url));
let dir = '';

const inside = (command: string, args: string[]) => sh('ip', ['netns', 'exec', NETNS, command, ...args]);

beforeAll(async () => {
  await sh('ip', ['netns', 'add', NETNS]);
  await sh('ip', ['link', 'add', HOST_END, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NETNS]);
  await sh('ip', ['addr', 'add', `${HOST_IP}/30`, 'dev', HOST_END]);
  await sh('ip', ['link', 'set', HOST_END, 'up']);
  await inside('ip', ['link', 'set', 'lo', 'up']);
  await inside('ip', ['addr', 'add', `${LAPTOP_IP}/30`, 'dev', 'eth0']);
  await inside('ip', ['link', 'set', 'eth0', 'up']);
  // The API server's address and nothing else of the cluster.
  await inside('ip', ['route', 'add', `${BRIDGE_IP}/32`, 'via', HOST_IP]);
  dir = await mkdtemp(join(tmpdir(), 'ebb-laptop-'));
  // Another path than the local cluster's own kubeconfig: to the quickstart and deploy.ts this is
  // some cluster of the user's, not the local one.
  await copyFile(join(STATE_DIR, 'admin.kubeconfig'), join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await sh('ip', ['netns', 'del', NETNS]).catch(() => undefined);
  await sh('ip', ['link', 'del', HOST_END]).catch(() => undefined);
  await custom
    .deleteNamespacedCustomObject({
      group: 'serving.knative.dev',
      version: 'v1',
      plural: 'services',
      namespace: 'default',
      name: 'hello',
    })
    .catch(() => undefined);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

it('falls back to kubectl port-forward when the ClusterIP is unreachable, and the request from zero answers through it', async () => {
  const gateway = await apps.readNamespacedDeployment({ namespace: 'ebb-system', name: 'ebb-gateway' });
  const image = gateway.spec?.template.spec?.containers[0]?.image ?? '';
  expect(image).toMatch(/^dev\.local\/ebb:/);
  const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        NETNS,
        process.execPath,
        QUICKSTART,
        '--use-current-context',
        '--image',
        image,
        '--sample-image',
        'dev.local/helloworld',
      ],
      { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('exit', (code) => {
      resolve({ code, text });
    });
  });
  expect(output.text).toContain('is not reachable from here: using kubectl port-forward');
  expect(output.text).toMatch(/→ {2}200 "Hello /);
  expect(output.text).toMatch(/from zero: 200 "Hello /);
  expect({ code: output.code, tail: output.code === 0 ? '' : output.text.slice(-2000) }).toEqual({
    code: 0,
    tail: '',
  });
  // The quickstart waits for the revision to go to zero before its last request (about a minute).
}, 600_000);
