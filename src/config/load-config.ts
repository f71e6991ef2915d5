/**
 * Finds and loads the one config file that applies: --config PATH, else $KEXEC_TS_CONFIG, else the nearest
 * project file (package.json "kexec-ts" property, .kexec-tsrc, .kexec-tsrc.{json,yaml,yml}) from the working
 * directory up to the directory holding package.json, else the system-wide /usr/local/etc/kexec-ts.{json,yaml}
 * ($KEXEC_TS_SYSCONFDIR overrides the directory). The first file found is the whole config; files are not merged.
 *
 * Why not cosmiconfig: cosmiconfig 9 looks for its own "meta config" (.config/config.{js,ts,mjs,cjs} and
 * package.json's "cosmiconfig" property) in process.cwd() every time an explorer is created, and loads it with
 * its default loaders, which execute JavaScript. Whatever loaders and search places we pass, running
 * `kexec-ts` as root in a directory where someone planted .config/config.js would run their code as root.
 * The search below follows cosmiconfig's 'project' strategy and search places, with JSON/YAML parsing only.
 */
import {stat} from 'node:fs/promises';
import {dirname, join, resolve} from 'node:path';
import {readConfigFile} from './config-file.js';
import type {KexecConfig} from './schema.js';

/** Project search places, in order (cosmiconfig's defaults for "kexec-ts", minus every script format). */
export const SEARCH_PLACES: readonly string[] = ['package.json', '.kexec-tsrc', '.kexec-tsrc.json', '.kexec-tsrc.yaml', '.kexec-tsrc.yml'];

/** The system-wide config directory (FreeBSD's LOCALBASE/etc) and its file names, in order. */
export const SYSTEM_CONFIG_DIR = '/usr/local/etc';
export const SYSTEM_CONFIG_FILES: readonly string[] = ['kexec-ts.json', 'kexec-ts.yaml'];

export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** --config PATH: load exactly this file. */
  explicitPath?: string;
  /** Where the project search starts and relative paths are resolved (default: process.cwd()). */
  cwd?: string;
  /** Environment to read KEXEC_TS_CONFIG and KEXEC_TS_SYSCONFDIR from (default: process.env). */
  env?: Environment;
}

export interface LoadedConfig {
  config: KexecConfig;
  /** Absolute path of the file the config came from, or null when none was found. */
  source: string | null;
}

/** The system-wide config directory: $KEXEC_TS_SYSCONFDIR when set and non-empty, else /usr/local/etc. */
export function systemConfigDir(env: Environment = process.env): string {
  const dir = env.KEXEC_TS_SYSCONFDIR;
  return dir === undefined || dir === '' ? SYSTEM_CONFIG_DIR : dir;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** cosmiconfig's 'project' strategy: each directory from `start` up, stopping after one with package.{json,yaml}. */
async function searchProject(start: string): Promise<LoadedConfig | null> {
  let dir = start;
  while (true) {
    for (const place of SEARCH_PLACES) {
      const file = join(dir, place);
      const config = await readConfigFile(file, 'searched');
      if (config !== null) return {config, source: file};
    }
    if ((await isFile(join(dir, 'package.json'))) || (await isFile(join(dir, 'package.yaml')))) return null;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

async function searchSystem(env: Environment): Promise<LoadedConfig | null> {
  const dir = resolve(systemConfigDir(env));
  for (const name of SYSTEM_CONFIG_FILES) {
    const file = join(dir, name);
    const config = await readConfigFile(file, 'searched');
    if (config !== null) return {config, source: file};
  }
  return null;
}

/**
 * The config that applies, and the file it came from ({config: {}, source: null} when there is none).
 * Throws KexecError (exit 2) naming the file and line for a missing explicit file, a syntax error, an unknown
 * key, a wrong type, a script file or a file others could have written.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = resolve(options.cwd ?? process.cwd());
  const explicit = options.explicitPath ?? (env.KEXEC_TS_CONFIG === '' ? undefined : env.KEXEC_TS_CONFIG);
  if (explicit !== undefined) {
    const file = resolve(cwd, explicit);
    return {config: (await readConfigFile(file, 'explicit')) ?? {}, source: file};
  }
  return (await searchProject(cwd)) ?? (await searchSystem(env)) ?? {config: {}, source: null};
}
