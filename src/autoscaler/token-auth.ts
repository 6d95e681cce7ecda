// Authenticates the gateway to the autoscaler: the gateway presents its ServiceAccount token,
// projected with the autoscaler's audience, and the autoscaler asks the API server (TokenReview)
// who it belongs to. Only the gateway's ServiceAccount is let in. Answers are cached for a minute
// (bounded), so the API server sees about one review per gateway pod per minute.
import type { AuthenticationV1Api } from '@kubernetes/client-node';

const CACHE_MS = 60_000;
const MAX_CACHED = 1_000;

export type AuthResult = { ok: true; user: string } | { ok: false; reason: string };

export class TokenAuthenticator {
  private readonly api: AuthenticationV1Api;
  private readonly audience: string;
  private readonly allowedUser: string;
  private readonly cache = new Map<string, { result: AuthResult; until: number }>();

  /** `allowedUser` is e.g. `system:serviceaccount:ebb-system:ebb-gateway`. */
  constructor(api: AuthenticationV1Api, audience: string, allowedUser: string) {
    this.api = api;
    this.audience = audience;
    this.allowedUser = allowedUser;
  }

  async authenticate(authorization: string | undefined, now = Date.now()): Promise<AuthResult> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (match === null) return { ok: false, reason: 'missing bearer token' };
    const token = match[1] ?? '';
    const hit = this.cache.get(token);
    if (hit !== undefined && hit.until > now) return hit.result;
    const result = await this.review(token);
    if (this.cache.size >= MAX_CACHED) {
      for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
    }
    this.cache.set(token, { result, until: now + CACHE_MS });
    return result;
  }

  private async review(token: string): Promise<AuthResult> {
    const review = await this.api.createTokenReview({
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences: [this.audience] },
      },
    });
    const status = review.status;
    if (status?.authenticated !== true)
      return { ok: false, reason: status?.error ?? 'token not authenticated' };
    const user = status.user?.username ?? '';
    if (!(status.audiences ?? []).includes(this.audience))
      return { ok: false, reason: `token is not for audience ${this.audience}` };
    if (user !== this.allowedUser) return { ok: false, reason: `${user} may not send stats` };
    return { ok: true, user };
  }
}
