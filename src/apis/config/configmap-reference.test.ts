import { describe, expect, it } from '@jest/globals';
import { CONFIG_MAPS, type ConfigMapName } from './cluster-config.ts';
import { ConfigReader } from './configmap-data.ts';
import { CONFIG_MAP_MEANINGS, configMapKeys } from './configmap-reference.ts';

const names = Object.keys(CONFIG_MAPS) as ConfigMapName[];

describe('the ConfigMap reference', () => {
  it.each(names)('%s: every key the parser reads has a meaning, and every meaning a key', (name) => {
    const read = configMapKeys(name).map((k) => k.key);
    expect(read.filter((key) => CONFIG_MAP_MEANINGS[name].keys[key] === undefined)).toEqual([]);
    expect(Object.keys(CONFIG_MAP_MEANINGS[name].keys).filter((key) => !read.includes(key))).toEqual([]);
  });

  it.each(names)('%s: a recording reader gets the same defaults as an empty ConfigMap', (name) => {
    const parse = CONFIG_MAPS[name].parse;
    expect(parse(ConfigReader.recording())).toEqual(parse({}));
  });

  it('lists keys with their type, default and legacy name, taken from the parser', () => {
    const byKey = new Map(configMapKeys('config-deployment').map((k) => [k.key, k]));
    expect(byKey.get('progress-deadline')).toEqual({
      key: 'progress-deadline',
      type: 'duration',
      fallback: '10m0s',
      legacyName: 'progressDeadline',
      meaning: CONFIG_MAP_MEANINGS['config-deployment'].keys['progress-deadline'],
    });
    expect(byKey.get('queue-sidecar-cpu-request')).toMatchObject({ type: 'quantity', fallback: undefined });
    const gc = new Map(configMapKeys('config-gc').map((k) => [k.key, k]));
    expect(gc.get('retain-since-create-time')).toMatchObject({
      type: 'duration or "disabled"',
      fallback: '48h0m0s',
    });
    const features = new Map(configMapKeys('config-features').map((k) => [k.key, k]));
    expect(features.get('multi-container')).toMatchObject({
      type: 'Enabled, Disabled or Allowed',
      fallback: 'Enabled',
    });
  });

  it('lists config-domain without keys: each key is a domain the user chooses', () => {
    expect(configMapKeys('config-domain')).toEqual([]);
  });
});

describe('ConfigReader', () => {
  it('records nothing when it is not recording', () => {
    const reader = new ConfigReader({ 'stable-window': '30s' });
    expect(reader.duration('stable-window', 60_000)).toBe(30_000);
    expect(reader.keysRead).toBeUndefined();
  });

  it('reads a legacy name only when the key itself is absent', () => {
    expect(new ConfigReader({ progressDeadline: '1s' }).alias('progress-deadline', 'progressDeadline')).toBe(
      'progressDeadline',
    );
    expect(
      new ConfigReader({ progressDeadline: '1s', 'progress-deadline': '2s' }).alias(
        'progress-deadline',
        'progressDeadline',
      ),
    ).toBe('progress-deadline');
  });
});
