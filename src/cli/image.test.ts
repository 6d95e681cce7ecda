// What the Dockerfile says the image must be, read without building it (the local cluster's
// `npm run deploy` builds it with podman, and the e2e suites run it): multi-stage, public bases
// by default behind build arguments, production dependencies only, the same build command as the
// checkout, a non-root user, OCI labels, and an entrypoint that runs the ebb command whose first
// argument picks the component.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** The Dockerfile's stages, each with its instructions (continuation lines joined, comments
 * dropped) and its base with the default of a global build argument filled in, as a public build
 * without --build-arg resolves it. */
function stages(text: string): Stage[] {
  const instructions = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const out: Stage[] = [];
  for (const line of instructions) {
    const arg = /^ARG\s+(\w+)=(\S+)$/i.exec(line);
    if (arg !== null && out.length === 0) {
      args.set(arg[1] ?? '', arg[2] ?? '');
      continue;
    }
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from !== null) {
      const base = (from[1] ?? '').replace(/^\$\{(\w+)\}$/, (whole, name: string) => args.get(name) ?? whole);
      out.push({ from: base, name: from[2], lines: [] });
    } else out.at(-1)?.lines.push(line);
  }
  return out;
}

const all = stages(dockerfile);
const final = all.at(-1);
const finalLines = final?.lines ?? [];

describe('the Dockerfile', () => {
  it('builds in stages and ships a Node 24 runtime without a shell or package manager', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(final?.from).toMatch(/^gcr\.io\/distroless\/nodejs24-debian\d+:nonroot$/);
    for (const stage of all.slice(0, -1)) expect(stage.from).toMatch(/^node:24-slim$/);
  });

  it('compiles with the same command as `npm run build` and the checkout (tsconfig.build.json)', () => {
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    const build = all.find((s) => s.lines.some((l) => l.includes('npm run build')));
    expect(build?.lines).toContain('COPY tsconfig.json tsconfig.build.json ./');
  });

  it('ships production dependencies only, installed from the lockfile', () => {
    const deps = all.find((s) => s.lines.some((l) => /npm ci\b.*--omit=dev/.test(l)));
    expect(deps?.name).toBeDefined();
    expect(finalLines).toContain(`COPY --from=${deps?.name ?? ''} /src/node_modules ./node_modules`);
    // No stage copies a node_modules from the build context (.dockerignore keeps it out too).
    expect(dockerfile).not.toMatch(/COPY\s+(\.\s|node_modules)/);
    expect(readFileSync(new URL('.dockerignore', root), 'utf8').split('\n')).toContain('node_modules');
  });

  it('runs as a non-root numeric user and writes nothing under /app (so the root filesystem can be read-only)', () => {
    expect(finalLines).toContain('USER 65532:65532');
    expect(finalLines.filter((l) => /^RUN\b/.test(l))).toEqual([]);
  });

  it('carries the OCI labels, the version from a build argument', () => {
    const labels = finalLines.filter((l) => l.startsWith('LABEL')).join(' ');
    for (const key of ['title', 'description', 'source', 'licenses', 'version']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    expect(labels).toContain('org.opencontainers.image.version="${VERSION}"');
    expect(finalLines).toContain('ARG VERSION=dev');
  });

  it('starts the ebb command, whose first argument picks the component, from the compiled dist/', () => {
    expect(finalLines).toContain('ENTRYPOINT ["/nodejs/bin/node", "/app/bin/ebb.js"]');
    for (const copied of ['COPY --from=build /src/dist ./dist', 'COPY package.json ./', 'COPY bin ./bin']) {
      expect(finalLines).toContain(copied);
    }
    const cli = readFileSync(new URL('src/cli/main.ts', root), 'utf8');
    for (const component of ['controller', 'webhook', 'gateway', 'autoscaler']) {
      expect(cli).toContain(`case '${component}':`);
    }
  });

  it('lets only the npm ci steps see a proxy CA, as a build secret that no layer keeps', () => {
    const lines = all.flatMap((stage) => stage.lines);
    const installs = lines.filter((l) => /\bnpm ci\b/.test(l));
    expect(installs.length).toBeGreaterThan(0);
    for (const line of installs) expect(line).toMatch(/^RUN --mount=type=secret,id=ca,[^ ]*required=false /);
    expect(lines.filter((l) => l.includes('secret'))).toEqual(installs);
    expect(lines.filter((l) => /^(COPY|ADD)\b/.test(l) && /ca\.crt|certs?\b/i.test(l))).toEqual([]);
  });
});
