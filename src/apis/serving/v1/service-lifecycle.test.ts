// Table tests for the Service's condition set: the marks the Service reconciler uses and how a
// child's Ready condition is copied onto ConfigurationsReady or RoutesReady (Knative's
// service_lifecycle.go).
import { describe, expect, it } from '@jest/globals';
import type { Condition } from '../../meta/v1.ts';
import { READY, type ConditionManager } from './conditions.ts';
import {
  CONFIGURATIONS_READY,
  ROUTES_READY,
  SERVICE_CONDITIONS,
  markConfigurationNotOwned,
  markConfigurationNotReconciled,
  markRevisionNameTaken,
  markRouteNotOwned,
  markRouteNotReconciled,
  markRouteNotYetReady,
  propagateReady,
} from './service-lifecycle.ts';

const NOW = new Date('2025-01-10T00:00:00Z');
const T_NOW = '2025-01-10T00:00:00Z';
const T_OLD = '2025-01-01T00:00:00Z';

function ready(): ConditionManager {
  return SERVICE_CONDITIONS.manage(
    [
      { type: CONFIGURATIONS_READY, status: 'True', lastTransitionTime: T_OLD },
      { type: READY, status: 'True', lastTransitionTime: T_OLD },
      { type: ROUTES_READY, status: 'True', lastTransitionTime: T_OLD },
    ],
    NOW,
  );
}

function brief(c: Condition | undefined): [string, string, string] {
  return [c?.status ?? '-', c?.reason ?? '', c?.message ?? ''];
}

describe('Service condition set', () => {
  it('has Ready, ConfigurationsReady and RoutesReady', () => {
    const m = SERVICE_CONDITIONS.manage(undefined, NOW);
    m.initialize();
    expect(m.conditions().map((c) => c.type)).toEqual([CONFIGURATIONS_READY, READY, ROUTES_READY]);
  });
});

describe('Service marks', () => {
  const cases: [string, (m: ConditionManager) => void, string, [string, string, string]][] = [
    [
      'configuration not owned',
      (m) => {
        markConfigurationNotOwned(m, 'hello');
      },
      CONFIGURATIONS_READY,
      ['False', 'NotOwned', 'There is an existing Configuration "hello" that we do not own.'],
    ],
    [
      'route not owned',
      (m) => {
        markRouteNotOwned(m, 'hello');
      },
      ROUTES_READY,
      ['False', 'NotOwned', 'There is an existing Route "hello" that we do not own.'],
    ],
    [
      'configuration not reconciled',
      (m) => {
        markConfigurationNotReconciled(m);
      },
      CONFIGURATIONS_READY,
      [
        'Unknown',
        'OutOfDate',
        'The Configuration is still working to reflect the latest desired specification.',
      ],
    ],
    [
      'route not reconciled',
      (m) => {
        markRouteNotReconciled(m);
      },
      ROUTES_READY,
      ['Unknown', 'OutOfDate', 'The Route is still working to reflect the latest desired specification.'],
    ],
    [
      'revision name taken',
      (m) => {
        markRevisionNameTaken(m, 'hello-byo');
      },
      ROUTES_READY,
      [
        'False',
        'RevisionNameTaken',
        'The revision name "hello-byo" is taken by a conflicting Revision, so traffic will not be migrated',
      ],
    ],
    [
      'route not yet ready',
      (m) => {
        markRouteNotYetReady(m);
      },
      ROUTES_READY,
      ['Unknown', 'TrafficNotMigrated', 'Traffic is not yet migrated to the latest revision.'],
    ],
  ];

  it.each(cases)('%s marks the dependent and Ready alike', (_name, mark, type, want) => {
    const m = ready();
    mark(m);
    expect(brief(m.get(type))).toEqual(want);
    expect(brief(m.get(READY))).toEqual(want);
    expect(m.get(READY)?.lastTransitionTime).toBe(T_NOW);
  });
});

describe('propagateReady', () => {
  const cases: [string, Condition[] | undefined, [string, string, string], [string, string, string]][] = [
    ['a child without conditions changes nothing', undefined, ['True', '', ''], ['True', '', '']],
    [
      'a child without a Ready condition changes nothing',
      [{ type: 'AllTrafficAssigned', status: 'False', reason: 'X' }],
      ['True', '', ''],
      ['True', '', ''],
    ],
    ['Ready True', [{ type: READY, status: 'True' }], ['True', '', ''], ['True', '', '']],
    [
      'Ready False carries its reason and message',
      [{ type: READY, status: 'False', reason: 'RevisionMissing', message: 'gone' }],
      ['False', 'RevisionMissing', 'gone'],
      ['False', 'RevisionMissing', 'gone'],
    ],
    [
      'Ready Unknown carries its reason and message',
      [{ type: READY, status: 'Unknown', reason: 'IngressNotConfigured', message: 'wait' }],
      ['Unknown', 'IngressNotConfigured', 'wait'],
      ['Unknown', 'IngressNotConfigured', 'wait'],
    ],
  ];

  it.each(cases)('%s', (_name, child, wantDependent, wantReady) => {
    const m = ready();
    propagateReady(m, ROUTES_READY, child);
    expect(brief(m.get(ROUTES_READY))).toEqual(wantDependent);
    expect(brief(m.get(READY))).toEqual(wantReady);
  });
});
