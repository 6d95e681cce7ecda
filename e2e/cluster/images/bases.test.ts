// The pure parts of making the base images: which mirrors and apt settings mmdebstrap gets from
// the host, which npm goes with a Node release, and the inputs hash that decides a rebuild.
import { describe, expect, it } from '@jest/globals';
import { bundledNpmVersion, debianMirrors, inputsKey, mirrorAptOptions, parseAptSources } from './bases.ts';

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://mirror.example/debian
Suites: bookworm
Components: main
Enabled: no
`;

describe('parseAptSources', () => {
  it('reads deb822 stanzas, skipping comments and disabled ones', () => {
    expect(parseAptSources(DEB822, 'deb822')).toEqual([
      {
        types: ['deb'],
        uris: ['http://deb.debian.org/debian'],
        suites: ['bookworm', 'bookworm-updates'],
        components: ['main'],
      },
      {
        types: ['deb'],
        uris: ['http://deb.debian.org/debian-security'],
        suites: ['bookworm-security'],
        components: ['main', 'contrib'],
      },
    ]);
  });

  it('reads one-line entries, dropping options and comments', () => {
    const list = [
      '# the main archive',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://mirror.example/debian bookworm main non-free',
      '',
      'deb-src http://deb.debian.org/debian bookworm main # sources',
      'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main',
    ].join('\n');
    expect(parseAptSources(list, 'list')).toEqual([
      {
        types: ['deb'],
        uris: ['https://mirror.example/debian'],
        suites: ['bookworm'],
        components: ['main', 'non-free'],
      },
      {
        types: ['deb-src'],
        uris: ['http://deb.debian.org/debian'],
        suites: ['bookworm'],
        components: ['main'],
      },
      {
        types: ['deb'],
        uris: ['https://packages.cloud.google.com/apt'],
        suites: ['cloud-sdk-bookworm'],
        components: ['main'],
      },
    ]);
  });
});

describe('debianMirrors', () => {
  it("keeps the suite's main, -updates and -security entries, main only", () => {
    expect(debianMirrors(parseAptSources(DEB822, 'deb822'), 'bookworm')).toEqual([
      'deb http://deb.debian.org/debian bookworm main',
      'deb http://deb.debian.org/debian bookworm-updates main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
  });

  it("leaves out other suites, deb-src, vendors' components and duplicates", () => {
    const sources = parseAptSources(
      [
        'deb http://deb.debian.org/debian trixie main',
        'deb-src http://deb.debian.org/debian bookworm main',
        'deb https://download.docker.com/linux/debian bookworm stable',
        'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main',
        'deb http://deb.debian.org/debian bookworm main',
        'deb http://deb.debian.org/debian bookworm main contrib',
      ].join('\n'),
      'list',
    );
    expect(debianMirrors(sources, 'bookworm')).toEqual(['deb http://deb.debian.org/debian bookworm main']);
  });
});

describe('mirrorAptOptions', () => {
  it("carries the host's validity and proxy settings, nothing else", () => {
    const dump = [
      'APT "";',
      'APT::Architecture "amd64";',
      'Acquire::Check-Valid-Until "false";',
      'Acquire::Check-Date "false";',
      'Acquire::http::Proxy "http://proxy:3128";',
      'Acquire::https::Proxy "http://proxy:3128";',
      'Acquire::Languages "none";',
      'DPkg::Post-Invoke:: "rm -f /var/cache/apt/archives/*.deb";',
    ].join('\n');
    expect(mirrorAptOptions(dump)).toEqual([
      'Acquire::Check-Valid-Until "false";',
      'Acquire::Check-Date "false";',
      'Acquire::http::Proxy "http://proxy:3128";',
      'Acquire::https::Proxy "http://proxy:3128";',
    ]);
  });
});

describe('bundledNpmVersion', () => {
  const changelog = `
<a id="24.21.0"></a>
## Version 24.21.0
* **deps**: update undici
<a id="24.20.0"></a>
## Version 24.20.0
* **deps**: upgrade npm to 11.19.0 (npm team)
* **deps**: upgrade npm to 11.18.0 (npm team)
<a id="24.19.0"></a>
* **deps**: upgrade npm to 11.17.0 (npm team)
`;

  it.each([
    ['24.21.0', '11.19.0'],
    ['v24.20.0', '11.19.0'],
    ['24.19.0', '11.17.0'],
    ['24.18.0', undefined],
  ])('Node %s ships npm %s', (node, npm) => {
    expect(bundledNpmVersion(changelog, node)).toBe(npm);
  });
});

describe('inputsKey', () => {
  it('is stable for the same inputs and changes with any of them', () => {
    const inputs = { from: 'sha256:1', nodeVersion: '24.21.0' };
    expect(inputsKey(inputs)).toBe(inputsKey({ ...inputs }));
    expect(inputsKey(inputs)).toMatch(/^[0-9a-f]{16}$/);
    expect(inputsKey({ ...inputs, nodeVersion: '24.22.0' })).not.toBe(inputsKey(inputs));
  });
});
