// Kubeconfig files for the local cluster's identities.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeIfChanged } from './files.ts';

export async function writeKubeconfig(
  pkiDir: string,
  identity: string,
  server: string,
  out: string,
): Promise<void> {
  const b64 = async (file: string) => (await readFile(join(pkiDir, file))).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'ebb-local', cluster: { server, 'certificate-authority-data': await b64('ca.crt') } }],
    users: [
      {
        name: identity,
        user: {
          'client-certificate-data': await b64(`${identity}.crt`),
          'client-key-data': await b64(`${identity}.key`),
        },
      },
    ],
    contexts: [{ name: 'ebb-local', context: { cluster: 'ebb-local', user: identity } }],
    'current-context': 'ebb-local',
  };
  await writeIfChanged(out, stringify(config), 0o600);
}
