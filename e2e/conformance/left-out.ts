// The tests `npm run test:conformance` does not run, each with the reason beside its name. Every
// entry is a debt with an issue behind it: the list shrinks as ebb grows, and a reason that no
// longer holds is a bug in this file.
import type { SuiteName } from './knative.ts';

export const LEFT_OUT: Record<SuiteName, Readonly<Record<string, string>>> = {
  api: {},
  runtime: {
    // HTTP/2 cleartext to a port named h2c is the HTTP/2 and gRPC issue's (18).
    TestProtocols: 'h2c to the container (issue 18)',
  },
  e2e: {
    // They wait for Knative's activator to appear in a revision's endpoints, as its
    // ServerlessService reports them: objects ebb does not have, since its gateway is always in
    // the path and needs no endpoint swap.
    TestTargetBurstCapacity: "reads the ServerlessService and the activator's endpoints (Knative internals)",
    TestTargetBurstCapacityMinusOne:
      "reads the ServerlessService and the activator's endpoints (Knative internals)",
    TestSvcToSvcViaActivator: "reads the ServerlessService and the activator's endpoints (Knative internals)",
    TestWebSocketViaActivator:
      "reads the ServerlessService and the activator's endpoints (Knative internals)",
    TestGRPCUnaryPingViaActivator:
      "reads the ServerlessService and the activator's endpoints (Knative internals)",
    TestGRPCStreamingPingViaActivator:
      "reads the ServerlessService and the activator's endpoints (Knative internals)",
    TestMinScale: "finds the revision's private Service through its ServerlessService (Knative internals)",
    TestMinScaleAnnotationChange:
      "finds the revision's private Service through its ServerlessService (Knative internals)",
    TestMinScaleTransition:
      "finds the revision's private Service through its ServerlessService (Knative internals)",
    TestQueueSideCarResourceLimit:
      'checks the queue-proxy sidecar, which ebb does not add (Knative internals)',
    TestRequestLogs: "reads the activator's and queue-proxy's request logs (Knative internals)",
    // Not ebb's to run here.
    TestEgressTraffic:
      'a pod calls www.google.com: the machines running these suites send nothing off the machine',
    // HTTP/2 and gRPC are the HTTP/2 and gRPC issue's (18).
    TestGRPCUnaryPing: 'gRPC (issue 18)',
    TestGRPCStreamingPing: 'gRPC (issue 18)',
    TestGRPCAutoscaleUpDownUp: 'gRPC (issue 18)',
    TestGRPCLoadBalancing: 'gRPC (issue 18)',
    TestHelloHTTP2WithPortNameH2C: 'h2c to the container (issue 18)',
    TestReadinessGRPCProbe: 'a gRPC readiness probe of a gRPC server (issue 18)',
  },
};

/** The -test.skip pattern for a suite's left-out tests, or undefined when none is. */
export function skipPattern(suite: SuiteName): string | undefined {
  const names = Object.keys(LEFT_OUT[suite]);
  return names.length === 0 ? undefined : `^(${names.join('|')})$`;
}
