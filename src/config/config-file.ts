/**
 * Reads one config file from disk, safely. kexec-ts runs as root and a config can name the shared library the
 * native backend loads, so a config file that someone else could have written is refused: never a world-writable
 * file, and, for files found by searching (not named by the user) while running as root, never a file owned by
 * another user. The bytes are read through the same descriptor that was checked.
 */
import {open} from 'node:fs/promises';
import {KexecError} from '../errors.js';
import {configFormat, parseConfigText} from './parse-config.js';
import type {KexecConfig} from './schema.js';

/** 'explicit': named by --config or KEXEC_TS_CONFIG (must exist); 'searched': a candidate of the search. */
export type ConfigFileMode = 'explicit' | 'searched';

export interface FileOwnership {
  readonly uid: number;
  readonly mode: number;
}

/** Why kexec-ts must not trust this file, or undefined when it may. */
export function unsafeConfigReason(owner: FileOwnership, euid: number | undefined, mode: ConfigFileMode): string | undefined {
  if ((owner.mode & 0o002) !== 0) return 'it is writable by every user';
  if (mode === 'searched' && euid === 0 && owner.uid !== 0) return `it is owned by uid ${owner.uid}, not root, and kexec-ts runs as root`;
  return undefined;
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/**
 * The validated config in `file`; null when a searched candidate does not exist or holds no kexec-ts config
 * (a package.json without the "kexec-ts" property). Errors are KexecErrors with exit code 2.
 */
export async function readConfigFile(file: string, mode: ConfigFileMode): Promise<KexecConfig | null> {
  configFormat(file); // refuses script extensions before the file is even opened
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    const code = errnoOf(e);
    if (mode === 'searched' && (code === 'ENOENT' || code === 'ENOTDIR')) return null;
    const what = code === 'ENOENT' || code === 'ENOTDIR' ? 'config file not found' : code === 'EACCES' ? 'cannot read config file: permission denied' : `cannot open config file (${code ?? String(e)})`;
    throw new KexecError('usage', `${file}: ${what}`, {reason: 'config-missing', hint: 'check the path given with --config or KEXEC_TS_CONFIG', details: {file}, cause: e});
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      if (mode === 'searched') return null;
      throw new KexecError('usage', `${file}: not a regular file`, {reason: 'config-missing', details: {file}});
    }
    const unsafe = unsafeConfigReason(stat, process.geteuid?.(), mode);
    if (unsafe !== undefined) {
      throw new KexecError('usage', `${file}: refusing to use this config file: ${unsafe}`, {
        reason: 'config-insecure',
        hint: `make it root-owned and not writable by others (chown root ${file}; chmod go-w ${file}), or name a trusted file with --config`,
        details: {file},
      });
    }
    const config = parseConfigText(file, await handle.readFile({encoding: 'utf8'}));
    if (config === null && mode === 'explicit') {
      throw new KexecError('usage', `${file}: no "kexec-ts" property in this package.json`, {reason: 'config-missing', details: {file}});
    }
    return config;
  } finally {
    await handle.close();
  }
}
