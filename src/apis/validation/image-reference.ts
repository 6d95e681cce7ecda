// Image references as Knative reads a container's image: go-containerregistry's
// name.ParseReference with weak validation, which takes a tag reference or else a digest one.
// Weak validation is lenient: the repository may hold any of [a-z0-9_-./], and a first path
// component is the registry only when it contains "." or ":".

const REPOSITORY_CHARS = /^[a-z0-9_\-./]*$/;
const TAG_CHARS = /^[A-Za-z0-9_\-.]*$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;
/** What Go's url.Parse keeps as the whole host of "//" + registry: host characters and an
 * optional numeric port. */
const REGISTRY = /^[A-Za-z0-9\-._~!$&'()*+,;=[\]<>"]*(:\d*)?$/;

function isRepository(name: string): boolean {
  if (name === '') return false;
  let registry = '';
  let repository = name;
  const slash = name.indexOf('/');
  if (slash >= 0) {
    const first = name.slice(0, slash);
    if (first.includes('.') || first.includes(':')) {
      registry = first;
      repository = name.slice(slash + 1);
    }
  }
  // Go counts runes; the characters allowed are all ASCII, so UTF-16 units count the same
  // wherever it matters.
  if (repository.length < 2 || repository.length > 255 || !REPOSITORY_CHARS.test(repository)) return false;
  return REGISTRY.test(registry);
}

function isTagReference(name: string): boolean {
  const parts = name.split(':');
  let base = name;
  const last = parts[parts.length - 1] ?? '';
  if (parts.length > 1 && !last.includes('/')) {
    base = parts.slice(0, -1).join(':');
    if (last !== '' && (last.length > 128 || !TAG_CHARS.test(last))) return false;
  }
  return isRepository(base);
}

function isDigestReference(name: string): boolean {
  const parts = name.split('@');
  if (parts.length !== 2) return false;
  const [base = '', digest = ''] = parts;
  if (!digest.startsWith('sha256:') || !SHA256_HEX.test(digest.slice('sha256:'.length))) return false;
  // A tag before the digest is allowed and dropped.
  return isTagReference(base) || isRepository(base);
}

/** name.ParseReference(image, name.WeakValidation) succeeds. */
export function isImageReference(image: string): boolean {
  return isTagReference(image) || isDigestReference(image);
}

/** The image reference without its tag or digest (`ghcr.io/a/b:1@sha256:...` → `ghcr.io/a/b`);
 * a colon before the last slash belongs to a registry port and stays. */
export function imageRepository(image: string): string {
  const at = image.indexOf('@');
  const name = at === -1 ? image : image.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}
