// The node's configuration files: what each setting this machine needs ends up as, checked by
// parsing the output the daemons read (TOML by its keys, JSON and YAML by structure).
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  nodeDirs,
  PAUSE_IMAGE,
  registryHosts,
  RUNC,
} from './kubelet-node.ts';
import { CNI_BIN_DIR } from './paths.ts';
import { BRIDGE, BRIDGE_IP, DNS_SERVICE_IP, nodeLayout, REGISTRY_ADDRESS, SERVICE_CIDR } from './topology.ts';

const node = nodeLayout(2);
const dirs = nodeDirs('/state', node);

/** `[table]` → key → raw value, enough to read back the TOML containerdConfig writes. */
function tomlTables(text: string): Map<string, Map<string, string>> {
  const tables = new Map<string, Map<string, string>>([['', new Map()]]);
  let current = tables.get('') ?? new Map<string, string>();
  for (const line of text.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header !== null) {
      current = new Map();
      tables.set(header[1] ?? '', current);
      continue;
    }
    const kv = /^\s*(\S+) = (.+)$/.exec(line);
    if (kv !== null) current.set(kv[1] ?? '', kv[2] ?? '');
  }
  return tables;
}

describe('containerdConfig', () => {
  const tables = tomlTables(containerdConfig(dirs));
  const cri = "plugins.'io.containerd.cri.v1.runtime'";

  it('keeps every path of the node under its own state and run directories', () => {
    expect(tables.get('')?.get('root')).toBe(`'/state/nodes/ebb-node-2/containerd'`);
    expect(tables.get('')?.get('state')).toBe(`'/run/ebb/ebb-node-2/containerd'`);
    expect(tables.get('grpc')?.get('address')).toBe(`'/run/ebb/ebb-node-2/containerd.sock'`);
    expect(tables.get("plugins.'io.containerd.internal.v1.opt'")?.get('path')).toBe(
      `'/state/nodes/ebb-node-2/opt'`,
    );
    expect(tables.get(`${cri}.containerd.runtimes.runc.options`)?.get('Root')).toBe(
      `'/run/ebb/ebb-node-2/runc'`,
    );
  });

  it('sets what this machine needs: runc with cgroupfs, restricted OOM scores, the local sandbox image', () => {
    expect(tables.get(cri)?.get('restrict_oom_score_adj')).toBe('true');
    expect(tables.get(`${cri}.containerd.runtimes.runc.options`)?.get('BinaryName')).toBe(`'${RUNC}'`);
    expect(tables.get(`${cri}.containerd.runtimes.runc.options`)?.get('SystemdCgroup')).toBe('false');
    expect(tables.get("plugins.'io.containerd.cri.v1.images'.pinned_images")?.get('sandbox')).toBe(
      `'${PAUSE_IMAGE}'`,
    );
    expect(tables.get(`${cri}.cni`)?.get('bin_dirs')).toBe(`['${CNI_BIN_DIR}']`);
    expect(tables.get("plugins.'io.containerd.nri.v1.nri'")?.get('disable')).toBe('true');
  });
});

describe('cniConfig', () => {
  const config = JSON.parse(cniConfig(dirs, node)) as {
    plugins: {
      type: string;
      bridge?: string;
      isGateway?: boolean;
      ipMasq?: boolean;
      ipam?: { ranges: { rangeStart: string; rangeEnd: string; gateway: string }[][]; routes: unknown[] };
    }[];
  };

  it("plugs pods into the one bridge from the node's own range, with no firewall rules of the plugin's", () => {
    const bridge = config.plugins.find((p) => p.type === 'bridge');
    expect(bridge).toMatchObject({ bridge: BRIDGE, isGateway: false, ipMasq: false });
    expect(bridge?.ipam?.ranges).toEqual([
      [
        expect.objectContaining({
          rangeStart: node.podRange.start,
          rangeEnd: node.podRange.end,
          gateway: BRIDGE_IP,
        }),
      ],
    ]);
    // The service range only: no default route, so a pod reaches nothing outside the cluster.
    expect(bridge?.ipam?.routes).toEqual([{ dst: SERVICE_CIDR, gw: BRIDGE_IP }]);
    expect(config.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
  });
});

describe('kubeletConfig', () => {
  const config = parse(kubeletConfig(dirs, '/pki', node)) as Record<string, unknown>;

  it('listens on the node address and its own health port, with x509 and webhook authorization', () => {
    expect(config).toMatchObject({
      address: node.ip,
      port: node.kubeletPort,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: node.healthzPort,
      tlsCertFile: '/pki/kubelet-ebb-node-2.crt',
      authentication: { anonymous: { enabled: false }, x509: { clientCAFile: '/pki/ca.crt' } },
      authorization: { mode: 'Webhook' },
    });
  });

  it('runs on cgroup v1 with cgroupfs under the node subtree, and touches no host-wide setting', () => {
    expect(config).toMatchObject({
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/ebb/ebb-node-2',
      oomScoreAdj: 0,
      makeIPTablesUtilChains: false,
      resolvConf: '',
      clusterDNS: [DNS_SERVICE_IP],
      podLogsDir: '/state/nodes/ebb-node-2/pod-logs',
      volumePluginDir: '/state/nodes/ebb-node-2/volume-plugins',
      imageGCHighThresholdPercent: 100,
    });
  });
});

describe('registryHosts', () => {
  it('sends pulls to the local registry over plain HTTP, once per lookup', () => {
    expect(registryHosts()).toBe(`server = 'http://${REGISTRY_ADDRESS}'\n`);
  });
});
