// The image table: names resolve with or without tag and digest, to scripts that exist.
import { describe, expect, it } from '@jest/globals';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { IMAGES, imageName, NODE_COMPILE_CACHE, resolveImage } from './images.ts';

const helloworld = IMAGES['dev.local/helloworld']?.script;
const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('imageName', () => {
  it.each([
    ['dev.local/helloworld', 'dev.local/helloworld'],
    ['dev.local/helloworld:latest', 'dev.local/helloworld'],
    [`dev.local/helloworld@${digest}`, 'dev.local/helloworld'],
    [`dev.local/helloworld:v1@${digest}`, 'dev.local/helloworld'],
    ['localhost:5000/app', 'localhost:5000/app'],
    ['localhost:5000/app:v2', 'localhost:5000/app'],
    ['helloworld', 'helloworld'],
  ])('%s -> %s', (image, name) => {
    expect(imageName(image)).toBe(name);
  });
});

describe('resolveImage', () => {
  it('runs the app with the current Node', () => {
    expect(resolveImage('dev.local/helloworld')).toEqual({
      command: [process.execPath, helloworld],
      env: { NODE_COMPILE_CACHE },
    });
  });

  it.each([
    'dev.local/helloworld:latest',
    `dev.local/helloworld@${digest}`,
    `dev.local/helloworld:0.1@${digest}`,
  ])('strips the tag or digest of %s', (image) => {
    expect(resolveImage(image)).toEqual({
      command: [process.execPath, helloworld],
      env: { NODE_COMPILE_CACHE },
    });
  });

  it.each([
    'dev.local/unknown',
    'docker.io/library/nginx:1.27',
    'gcr.io/knative-samples/helloworld-go',
    'dev.local',
    '',
    'constructor',
    'toString',
  ])('does not know %j', (image) => {
    expect(resolveImage(image)).toBeUndefined();
  });

  it("runs dev.local/ebb as this checkout's compiled ebb command (the agent appends the container args)", () => {
    const ebb = fileURLToPath(new URL('../../bin/ebb.js', import.meta.url));
    expect(resolveImage('dev.local/ebb:dev', () => true)).toEqual({
      command: [process.execPath, ebb],
      env: { NODE_COMPILE_CACHE, EBB_RUN_DIST: '1', NODE_ENV: 'production' },
    });
  });

  it('reports dev.local/ebb as not built while dist/ is missing, and names the command that builds it', () => {
    const missing = resolveImage('dev.local/ebb:dev', () => false);
    expect(missing?.notBuilt).toMatch(
      /^image dev\.local\/ebb is this checkout's build output, and \/.*\/dist\/cli\/main\.js does not exist yet; npm run deploy/,
    );
    expect(resolveImage('dev.local/ebb:dev', () => true)?.notBuilt).toBeUndefined();
    // The test apps run from source: nothing to build.
    expect(resolveImage('dev.local/helloworld', () => false)?.notBuilt).toBeUndefined();
  });

  it('points every image at an absolute path to a script that exists', async () => {
    for (const [name, entry] of Object.entries(IMAGES)) {
      expect(entry.script).toMatch(/^\/.*\/(e2e\/images\/[a-z]+\.ts|bin\/ebb\.js)$/);
      await expect(access(entry.script)).resolves.toBeUndefined();
      expect(resolveImage(`${name}:latest`)?.command).toEqual([process.execPath, entry.script]);
    }
    expect(Object.keys(IMAGES).sort()).toEqual([
      'dev.local/autoscale',
      'dev.local/ebb',
      'dev.local/echo',
      'dev.local/failing',
      'dev.local/helloworld',
      'dev.local/slowstart',
      'dev.local/webhook',
    ]);
  });
});

describe("Knative's test images", () => {
  const built = (file: string) => file.endsWith('/images/helloworld');

  it('run the built binary, which the container also finds where ko puts it', () => {
    const resolved = resolveImage('knative.test/serving/helloworld:latest', built);
    const binary = resolved?.command[0] ?? '';
    expect(built(binary)).toBe(true);
    expect(resolved?.files).toEqual([{ target: '/ko-app/helloworld', source: binary }]);
  });

  it.each([
    [
      'one never built, as a name the suites expect to fail to pull',
      'knative.test/serving/invalidhelloworld',
    ],
    ['a name that would climb out of the images directory', 'knative.test/serving/../helloworld'],
    ['another repository', 'knative.test/other/helloworld'],
  ])('do not resolve %s', (_why, image) => {
    expect(resolveImage(image, built)).toBeUndefined();
  });
});
