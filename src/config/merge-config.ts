/**
 * Command-line flags over the config file over built-in defaults, key by key, remembering where each effective
 * value came from so `--json` output and error messages can say "pageSize 16K (config /usr/local/etc/kexec-ts.yaml)".
 * Flag values and config values go through the same parsers (src/config/value-parsers.ts); relative paths in a
 * config file are relative to that file, relative paths in flags are left to the working directory.
 */
import {dirname} from 'node:path';
import {KexecError} from '../errors.js';
import type {LoadedConfig} from './load-config.js';
import {CONFIG_SPECS, typeIssue, type ConfigInputTypes, type ConfigKeyPath, type EffectiveValue} from './schema.js';
import {isPlainMapping} from './value-parsers.js';

export type SettingSource = 'flag' | `config ${string}` | 'default';

export interface Setting<T> {
  readonly value: T;
  readonly source: SettingSource;
}

/** Every key's effective value and origin. */
export type EffectiveConfig = {readonly [K in ConfigKeyPath]: Setting<EffectiveValue<K>>};

/** The flag values that were actually given (undefined = not given), in config terms (key path → raw value). */
export type ConfigOverrides = {readonly [K in ConfigKeyPath]?: ConfigInputTypes[K] | undefined};

/** The raw config value at a dotted key path, or undefined. */
function rawAt(config: LoadedConfig['config'], key: ConfigKeyPath): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) {
    if (!isPlainMapping(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

function settle<K extends ConfigKeyPath>(key: K, loaded: LoadedConfig, overrides: ConfigOverrides): Setting<EffectiveValue<K>> {
  const spec = CONFIG_SPECS[key];
  const flag = overrides[key];
  if (flag !== undefined) {
    const parsed = spec.parse(flag, {});
    if (!parsed.ok) {
      throw new KexecError('usage', `command line: ${typeIssue(key, flag, parsed).message}`, {reason: 'flag-value', details: {key}});
    }
    return {value: parsed.value, source: 'flag'};
  }
  const raw = rawAt(loaded.config, key);
  if (raw !== undefined && raw !== null) {
    const parsed = spec.parse(raw, loaded.source === null ? {} : {baseDir: dirname(loaded.source)});
    const where = loaded.source ?? 'configuration';
    if (!parsed.ok) {
      throw new KexecError('usage', `${where}: ${typeIssue(key, raw, parsed).message}`, {reason: 'config-type', details: {key}});
    }
    return {value: parsed.value, source: `config ${where}`};
  }
  return {value: spec.defaultValue, source: 'default'};
}

/**
 * The effective settings: for each key the flag value when one was given, else the config file's value, else the
 * default. Throws KexecError (exit 2) for a flag value of the wrong type.
 */
export function mergeConfig(loaded: LoadedConfig, overrides: ConfigOverrides = {}): EffectiveConfig {
  const s = <K extends ConfigKeyPath>(key: K): Setting<EffectiveValue<K>> => settle(key, loaded, overrides);
  return {
    backend: s('backend'),
    stateDir: s('stateDir'),
    memmap: s('memmap'),
    profile: s('profile'),
    pageSize: s('pageSize'),
    modulePath: s('modulePath'),
    env: s('env'),
    loaderConf: s('loaderConf'),
    host: s('host'),
    'native.library': s('native.library'),
    'native.rebootHeader': s('native.rebootHeader'),
    'native.rbKexec': s('native.rbKexec'),
    'sim.profile': s('sim.profile'),
    'sim.privileged': s('sim.privileged'),
    'sim.securelevel': s('sim.securelevel'),
  };
}
