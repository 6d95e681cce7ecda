// How ebb's image is built: the local bases, the proxy's CA as a build secret, and a build
// context without node_modules, .git or caches.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { NODE_BASE, RUNTIME_BASE } from './bases.ts';
import { buildArgs, caBundle } from './ebb-image.ts';

describe('caBundle', () => {
  const exists = (files: string[]) => (path: string) => files.includes(path);

  it.each([
    [
      'the file NODE_EXTRA_CA_CERTS names',
      { NODE_EXTRA_CA_CERTS: '/etc/proxy.pem' },
      ['/etc/proxy.pem'],
      '/etc/proxy.pem',
    ],
    [
      "the system's bundle when NODE_EXTRA_CA_CERTS is unset",
      {},
      ['/etc/ssl/certs/ca-certificates.crt'],
      '/etc/ssl/certs/ca-certificates.crt',
    ],
    [
      "the system's bundle when NODE_EXTRA_CA_CERTS names a missing file",
      { NODE_EXTRA_CA_CERTS: '/missing.pem' },
      ['/etc/ssl/certs/ca-certificates.crt'],
      '/etc/ssl/certs/ca-certificates.crt',
    ],
    ['none when there is neither', { NODE_EXTRA_CA_CERTS: '' }, [], undefined],
  ])('%s', (_, env, files, expected) => {
    expect(caBundle(env, exists(files))).toBe(expected);
  });
});

describe('buildArgs', () => {
  it('builds on the local bases, with the CA as the secret `ca`, runc-safe rlimits and host networking', () => {
    const args = buildArgs('/tmp/iid', '/etc/ssl/certs/ca-certificates.crt');
    expect(args[0]).toBe('build');
    expect(args).toEqual(
      expect.arrayContaining([
        '--pull=never',
        `BUILD_IMAGE=${NODE_BASE}`,
        `RUNTIME_IMAGE=${RUNTIME_BASE}`,
        'id=ca,src=/etc/ssl/certs/ca-certificates.crt',
        'nofile=1024:1024',
        'nproc=1024:1024',
        'host',
      ]),
    );
    expect(args.slice(-3, -1)).toEqual(['--iidfile', '/tmp/iid']);
    expect(args.at(-1)).toMatch(/\/$/);
  });

  it('mounts no secret when there is no CA bundle', () => {
    expect(buildArgs('/tmp/iid', undefined)).not.toContain('--secret');
  });
});

describe('the build context', () => {
  const repo = new URL('../../../', import.meta.url);

  it('leaves node_modules, .git, build outputs and caches out of the context', async () => {
    const ignored = (await readFile(new URL('.dockerignore', repo), 'utf8')).split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git', 'dist', 'coverage', '.cache']));
  });
});
