// After each e2e test: stop any load a failed test left running, so that its clients do not keep
// sending requests into the next test, or keep jest from exiting at the end.
import { afterEach } from '@jest/globals';
import { stopLoads } from './dataplane-client.ts';

afterEach(async () => {
  await stopLoads();
});
