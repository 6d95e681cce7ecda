// Tests for the Configuration's condition set (Ready alone) and its failure marks, with the
// messages of Knative's configuration_lifecycle.go.
import { describe, expect, it } from '@jest/globals';
import { READY, type ConditionManager } from './conditions.ts';
import {
  CONFIGURATION_CONDITIONS,
  REASON_REVISION_DELETED,
  REASON_REVISION_FAILED,
  markLatestCreatedFailed,
  markLatestReadyDeleted,
  markRevisionCreationFailed,
} from './configuration-lifecycle.ts';

const NOW = new Date('2025-01-10T00:00:00Z');

describe('Configuration condition set', () => {
  it('initializes Ready alone', () => {
    const m = CONFIGURATION_CONDITIONS.manage(undefined, NOW);
    m.initialize();
    expect(m.conditions()).toEqual([
      { type: READY, status: 'Unknown', lastTransitionTime: '2025-01-10T00:00:00Z' },
    ]);
  });

  const cases: [string, (m: ConditionManager) => void, string, string][] = [
    [
      'latest created failed',
      (m) => {
        markLatestCreatedFailed(m, 'hello-00002', 'Container failed with: boom');
      },
      REASON_REVISION_FAILED,
      'Revision "hello-00002" failed with message: Container failed with: boom.',
    ],
    [
      'revision creation failed',
      (m) => {
        markRevisionCreationFailed(m, 'admission webhook denied the request');
      },
      REASON_REVISION_FAILED,
      'Revision creation failed with message: admission webhook denied the request.',
    ],
    [
      'latest ready deleted',
      (m) => {
        markLatestReadyDeleted(m, 'hello-00001');
      },
      REASON_REVISION_DELETED,
      'Revision "hello-00001" was deleted.',
    ],
  ];

  it.each(cases)('%s makes Ready False', (_name, mark, reason, message) => {
    const m = CONFIGURATION_CONDITIONS.manage([{ type: READY, status: 'True' }], NOW);
    mark(m);
    expect(m.get(READY)).toEqual({
      type: READY,
      status: 'False',
      reason,
      message,
      lastTransitionTime: '2025-01-10T00:00:00Z',
    });
  });

  it('names the reasons as Knative does', () => {
    expect([REASON_REVISION_FAILED, REASON_REVISION_DELETED]).toEqual(['RevisionFailed', 'RevisionDeleted']);
  });
});
