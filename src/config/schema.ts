/**
 * The configuration schema: every key kexec-ts accepts in a config file, its type, documentation, default and
 * parser, and the validator that checks a parsed file against it. This table is the single source for the
 * validator, the flag/config merge, the commented template (templates/config/kexec-ts.yaml) and the README.
 * kexec-ts runs as root, so configuration is data only (JSON or YAML); unknown keys are errors, never ignored.
 */
import type {BackendName} from '../backend/types.js';
import {PROFILE_NAMES} from '../memory/profiles.js';
import {closest} from './suggest.js';
import {
  booleanValue, integerValue, isPlainMapping, kenvValue, modulePathValue, oneOf, pageSizeValue, pathValue, rebootFlagValue,
  type ParseContext, type ParseFailure, type Parser,
} from './value-parsers.js';

/** Values as written in a config file or given as flags, by key path. */
export interface ConfigInputTypes {
  backend: BackendName;
  stateDir: string;
  memmap: string;
  profile: string;
  pageSize: number | string;
  modulePath: string | string[];
  env: Record<string, string | number | boolean>;
  loaderConf: string;
  host: string;
  'native.library': string;
  'native.rebootHeader': string;
  'native.rbKexec': number | string;
  'sim.profile': string;
  'sim.privileged': boolean;
  'sim.securelevel': number;
}

/** Values after parsing (what the rest of kexec-ts uses), by key path. */
export interface ConfigValueTypes {
  backend: BackendName;
  stateDir: string;
  memmap: string;
  profile: string;
  pageSize: bigint;
  modulePath: string[];
  env: Record<string, string>;
  loaderConf: string;
  host: string;
  'native.library': string;
  'native.rebootHeader': string;
  'native.rbKexec': bigint;
  'sim.profile': string;
  'sim.privileged': boolean;
  'sim.securelevel': number;
}

export type ConfigKeyPath = keyof ConfigValueTypes;

/** Keys that always have a value: their default applies when neither a flag nor the config sets them. */
export type DefaultedKey = 'pageSize' | 'env' | 'native.rebootHeader' | 'sim.privileged' | 'sim.securelevel';

/** The contents of a config file (or of the "kexec-ts" property of package.json). Every key is optional. */
export interface KexecConfig {
  backend?: ConfigInputTypes['backend'];
  stateDir?: string;
  memmap?: string;
  profile?: string;
  pageSize?: ConfigInputTypes['pageSize'];
  modulePath?: ConfigInputTypes['modulePath'];
  env?: ConfigInputTypes['env'];
  loaderConf?: string;
  host?: string;
  native?: {library?: string; rebootHeader?: string; rbKexec?: ConfigInputTypes['native.rbKexec']};
  sim?: {profile?: string; privileged?: boolean; securelevel?: number};
}

/** Documentation of one key, for the README, `--help` texts and the init template. */
export interface ConfigKeyDoc {
  /** Dotted key path, e.g. "native.rbKexec". */
  readonly key: ConfigKeyPath;
  /** The accepted type, in words. */
  readonly type: string;
  readonly description: string;
  /** The default, in words ("none" when the command decides). */
  readonly default: string;
  /** A valid example value, used (commented out) in the template. */
  readonly example: ConfigInputTypes[ConfigKeyPath];
}

/** The value a key has once flags, config and defaults are merged: only defaulted keys are never undefined. */
export type EffectiveValue<K extends ConfigKeyPath> = ConfigValueTypes[K] | (K extends DefaultedKey ? never : undefined);

interface KeySpec<K extends ConfigKeyPath> extends ConfigKeyDoc {
  readonly key: K;
  readonly example: ConfigInputTypes[K];
  readonly defaultValue: EffectiveValue<K>;
  readonly parse: Parser<ConfigValueTypes[K]>;
}

const BACKENDS: readonly BackendName[] = ['native', 'sim', 'qemu'];
const profileName = oneOf(PROFILE_NAMES);

/** The schema, in the order the template and README list the keys. */
export const CONFIG_SPECS: {readonly [K in ConfigKeyPath]: KeySpec<K>} = {
  backend: {key: 'backend', type: '"native" | "sim" | "qemu"', default: 'native on FreeBSD, sim elsewhere', example: 'sim', defaultValue: undefined,
    description: 'Backend that stages and boots images: native (FreeBSD kexec_load(2) and reboot(2)), sim (the simulated machine), qemu (boot the plan in an emulator).',
    parse: oneOf(BACKENDS)},
  stateDir: {key: 'stateDir', type: 'path', default: '/var/db/kexec-ts as root, else $XDG_STATE_HOME/kexec-ts or ~/.local/state/kexec-ts', example: '/var/db/kexec-ts', defaultValue: undefined,
    description: 'Directory for the simulated machine\'s state and the record of what was staged. Relative paths are relative to the config file.',
    parse: pathValue},
  memmap: {key: 'memmap', type: 'path', default: 'vm.phys_segs (native) or the machine profile (sim)', example: '/var/db/kexec-ts/phys_segs.txt', defaultValue: undefined,
    description: 'Memory map of the target: saved `sysctl vm.phys_segs` output or a JSON/YAML map file.',
    parse: pathValue},
  profile: {key: 'profile', type: `${PROFILE_NAMES.map((p) => JSON.stringify(p)).join(' | ')}`, default: 'chosen from the kernel\'s machine type', example: 'amd64-4g', defaultValue: undefined,
    description: 'Built-in machine profile (memory map and page size) used for planning when no memory map is given.',
    parse: profileName},
  pageSize: {key: 'pageSize', type: 'number or string ("4K", "16K", "0x4000")', default: '4K', example: '4K', defaultValue: 0x1000n,
    description: 'Page size of the target; segments are aligned to it. arm64 kernels may use 16K or 64K.',
    parse: pageSizeValue},
  modulePath: {key: 'modulePath', type: '";"-separated string or list of paths', default: 'the kernel\'s directory, then /boot/modules (as loader(8))', example: '/boot/kernel;/boot/modules', defaultValue: undefined,
    description: 'Directories searched for kernel modules, like loader.conf\'s module_path.',
    parse: modulePathValue},
  env: {key: 'env', type: 'mapping of name to string, number or boolean', default: 'no variables', example: {boot_verbose: 1, 'vfs.root.mountfrom': 'ufs:/dev/ada0p2'}, defaultValue: {},
    description: 'Kernel environment variables passed to the new kernel (as loader.conf sets them); true and false become "1" and "0".',
    parse: kenvValue},
  loaderConf: {key: 'loaderConf', type: 'path', default: 'none', example: '/boot/loader.conf', defaultValue: undefined,
    description: 'loader.conf(5) file to read modules (*_load), module_path and kernel environment from.',
    parse: pathValue},
  host: {key: 'host', type: 'path', default: 'the running system on FreeBSD, none elsewhere', example: '/var/db/kexec-ts/hosts/web1', defaultValue: undefined,
    description: 'A host snapshot directory (made with `kexec-ts host capture DIR`) to plan for instead of the running system: its kernel environment, sysctls, /boot and /etc/fstab.',
    parse: pathValue},
  'native.library': {key: 'native.library', type: 'path', default: 'libsys.so.7, then libc.so.7 (FreeBSD)', example: '/lib/libsys.so.7', defaultValue: undefined,
    description: 'Shared library that provides kexec_load(2) and reboot(2) to the native backend. It is loaded into a process running as root: keep it root-owned.',
    parse: pathValue},
  'native.rebootHeader': {key: 'native.rebootHeader', type: 'path', default: '/usr/include/sys/reboot.h', example: '/usr/include/sys/reboot.h', defaultValue: '/usr/include/sys/reboot.h',
    description: 'Header that RB_KEXEC\'s value is read from when native.rbKexec is not set.',
    parse: pathValue},
  'native.rbKexec': {key: 'native.rbKexec', type: 'number or hex string', default: 'read from native.rebootHeader', example: '0x1000000', defaultValue: undefined,
    description: 'Numeric value of RB_KEXEC on the target (one reboot(2) howto bit). kexec-ts never guesses it: copy it from the target\'s /usr/include/sys/reboot.h. The example is a placeholder, not a known value.',
    parse: rebootFlagValue},
  'sim.profile': {key: 'sim.profile', type: 'a profile name, as for profile', default: 'the value of profile', example: 'amd64-4g', defaultValue: undefined,
    description: 'Machine profile of the simulated machine, when it should differ from the planning profile.',
    parse: profileName},
  'sim.privileged': {key: 'sim.privileged', type: 'boolean', default: 'true', example: true, defaultValue: true,
    description: 'Whether the simulated caller has PRIV_REBOOT (false makes load and exec fail with EPERM, as for non-root).',
    parse: booleanValue},
  'sim.securelevel': {key: 'sim.securelevel', type: 'integer from -1 to 3', default: '-1', example: -1, defaultValue: -1,
    description: 'kern.securelevel of the simulated machine; above 0, kexec_load(2) fails with EPERM.',
    parse: integerValue(-1, 3)},
};

export const CONFIG_KEYS: readonly ConfigKeyDoc[] = Object.values(CONFIG_SPECS).map(
  ({key, type, description, default: d, example}): ConfigKeyDoc => ({key, type, description, default: d, example}),
);

/** One problem in a config: `path` is where it is (key names, list indexes), for the file:line lookup. */
export interface ConfigIssue {
  readonly kind: 'unknown-key' | 'type';
  readonly path: readonly string[];
  /** One line: `unknown key "native.libary" (known: …)` or `"pageSize" must be …; got …`. */
  readonly message: string;
  readonly suggestion?: string;
}

export type ConfigValidation = {readonly ok: true; readonly config: KexecConfig} | {readonly ok: false; readonly issues: readonly ConfigIssue[]};

/** Key names allowed at each level: '' for the top level, 'native' and 'sim' for the sections. */
const LEVELS: ReadonlyMap<string, readonly string[]> = (() => {
  const levels = new Map<string, string[]>([['', []]]);
  for (const key of Object.keys(CONFIG_SPECS)) {
    const [head = '', child] = key.split('.');
    const top = levels.get('') ?? [];
    if (!top.includes(head)) top.push(head);
    if (child !== undefined) levels.set(head, [...(levels.get(head) ?? []), child]);
  }
  return levels;
})();

function isConfigKeyPath(key: string): key is ConfigKeyPath {
  return Object.hasOwn(CONFIG_SPECS, key);
}

/** Describes a value for a message: JSON for scalars, words for the rest. */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value) ?? String(value);
}

/** The issue for a failed parse of `key`, as used by the validator and by the flag merge. */
export function typeIssue(key: ConfigKeyPath, raw: unknown, failure: ParseFailure): ConfigIssue {
  const at = failure.at ?? [];
  const name = [key, ...at].join('.');
  const got = describeValue(at.length > 0 ? failure.got : raw);
  const suggestion = failure.suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(failure.suggestion)}?)`;
  return {kind: 'type', path: [...key.split('.'), ...at], message: `"${name}" must be ${failure.expected}; got ${got}${suggestion}`,
    ...(failure.suggestion === undefined ? {} : {suggestion: failure.suggestion})};
}

function unknownKeyIssue(level: string, name: string): ConfigIssue {
  const known = LEVELS.get(level) ?? [];
  const full = level === '' ? name : `${level}.${name}`;
  const near = closest(name, known);
  const suggestion = near === undefined ? undefined : level === '' ? near : `${level}.${near}`;
  const tail = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
  return {kind: 'unknown-key', path: level === '' ? [name] : [level, name], message: `unknown key "${full}" (known: ${known.join(', ')})${tail}`,
    ...(suggestion === undefined ? {} : {suggestion})};
}

/**
 * Checks a parsed config (the JS value of a YAML/JSON document; null for an empty document) against the schema.
 * Reports every issue in document order; `ctx` only matters for path resolution, not for validity.
 */
export function validateConfig(value: unknown, ctx: ParseContext = {}): ConfigValidation {
  if (value === null || value === undefined) return {ok: true, config: {}};
  if (!isPlainMapping(value)) {
    return {ok: false, issues: [{kind: 'type', path: [], message: `the configuration must be a mapping of keys; got ${describeValue(value)}`}]};
  }
  const issues: ConfigIssue[] = [];
  const checkLevel = (level: string, mapping: Record<string, unknown>): void => {
    for (const [name, raw] of Object.entries(mapping)) {
      const key = level === '' ? name : `${level}.${name}`;
      if (!(LEVELS.get(level) ?? []).includes(name)) {
        issues.push(unknownKeyIssue(level, name));
      } else if (isConfigKeyPath(key)) {
        const parsed = CONFIG_SPECS[key].parse(raw, ctx);
        if (!parsed.ok) issues.push(typeIssue(key, raw, parsed));
      } else if (isPlainMapping(raw)) {
        checkLevel(key, raw);
      } else if (raw !== null) {
        issues.push({kind: 'type', path: [name], message: `"${key}" must be a mapping of ${(LEVELS.get(key) ?? []).join(', ')}; got ${describeValue(raw)}`});
      }
    }
  };
  checkLevel('', value);
  if (issues.length > 0) return {ok: false, issues};
  // Empty sections (`native:` with every child commented out) and an empty env mean "not set".
  const config = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
  // Every key and value has just been checked against the schema, which is what KexecConfig describes.
  return {ok: true, config: config as KexecConfig};
}
