// The local cluster's PKI, generated with the openssl CLI: a CA, the apiserver's serving
// certificate, the ServiceAccount signing key, and client certificates for each identity. Files
// that already exist are kept, so `cluster:up` after a crash reuses the same credentials.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathExists } from './paths.ts';

const run = promisify(execFile);

export interface Identity {
  file: string;
  commonName: string;
  organization?: string;
}

/** Client identities the components use; RBAC's bootstrap policy knows these names. */
export const IDENTITIES = {
  admin: { file: 'admin', commonName: 'kubernetes-admin', organization: 'system:masters' },
  controllerManager: { file: 'kube-controller-manager', commonName: 'system:kube-controller-manager' },
  scheduler: { file: 'kube-scheduler', commonName: 'system:kube-scheduler' },
  proxy: { file: 'kube-proxy', commonName: 'system:kube-proxy' },
  apiserverKubelet: {
    file: 'apiserver-kubelet-client',
    commonName: 'kube-apiserver-kubelet-client',
    organization: 'kubeadm:cluster-admins',
  },
  coredns: { file: 'coredns', commonName: 'system:coredns' },
} as const satisfies Record<string, Identity>;

export function nodeIdentity(nodeName: string): Identity {
  return { file: `node-${nodeName}`, commonName: `system:node:${nodeName}`, organization: 'system:nodes' };
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function signed(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  if (await pathExists(join(dir, `${name}.crt`))) return;
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await openssl(
    ['req', '-new', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '365',
      '-out',
      `${name}.crt`,
      '-extfile',
      ext,
    ],
    dir,
  );
}

function subject(id: Identity): string {
  return id.organization === undefined ? `/CN=${id.commonName}` : `/O=${id.organization}/CN=${id.commonName}`;
}

export interface PkiOptions {
  dir: string;
  /** Addresses the apiserver is reached at (host side and ClusterIP). */
  apiserverIPs: string[];
  /** Each node's name and the address its kubelet API is reached at. */
  nodes: { name: string; ip: string }[];
}

export async function ensurePki(o: PkiOptions): Promise<void> {
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  if (!(await pathExists(join(o.dir, 'ca.crt')))) {
    await openssl(
      [
        'req',
        '-x509',
        ...KEY,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '3650',
        '-subj',
        '/CN=ebb-local-cluster-ca',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      ],
      o.dir,
    );
  }
  if (!(await pathExists(join(o.dir, 'sa.key')))) {
    await openssl(
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'],
      o.dir,
    );
    await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], o.dir);
  }
  const serverExt = (dns: string[], ips: string[]) =>
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${[...dns.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',')}`,
      '',
    ].join('\n');
  const clientExt =
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
  await signed(
    o.dir,
    'apiserver',
    '/CN=kube-apiserver',
    serverExt(
      [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ['127.0.0.1', ...o.apiserverIPs],
    ),
  );
  for (const node of o.nodes) {
    await signed(
      o.dir,
      `kubelet-${node.name}`,
      `/CN=${node.name}`,
      serverExt([node.name, 'localhost'], ['127.0.0.1', node.ip]),
    );
  }
  for (const id of [...Object.values(IDENTITIES), ...o.nodes.map((n) => nodeIdentity(n.name))]) {
    await signed(o.dir, id.file, subject(id), clientExt);
  }
}
