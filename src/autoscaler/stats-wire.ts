// The stats the gateway sends the autoscaler once a second (and at once when a revision at zero
// gets its first request): per revision, the time-weighted average concurrency and the request
// count over the period, as JSON over HTTP. Both sides parse with this schema.
import { z } from 'zod';

/** The audience of the ServiceAccount token the gateway presents; the autoscaler accepts no other. */
export const STATS_AUDIENCE = 'ebb-autoscaler';
export const STATS_PATH = '/v1/stats';
export const STATS_PORT = 8080;

export const WireStat = z.strictObject({
  namespace: z.string().min(1),
  revision: z.string().min(1),
  /** Time-weighted average of requests in flight over the period. */
  concurrency: z.number().nonnegative(),
  /** Requests that arrived in the period, per second. */
  rps: z.number().nonnegative(),
});
export type WireStat = z.infer<typeof WireStat>;

export const WireReport = z.strictObject({
  /** The sending gateway pod; reports from several gateways are summed. */
  pod: z.string().min(1),
  /** True for the immediate report of a first request, which should wake a revision at zero. */
  poke: z.boolean().optional(),
  stats: z.array(WireStat).max(100_000),
});
export type WireReport = z.infer<typeof WireReport>;
