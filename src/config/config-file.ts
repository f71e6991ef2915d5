/**
 * Reads one config file from disk, safely. kexec-ts runs as root and a config can name the shared library the
 * native backend loads, so a config file that someone else could have written is refused (README "Threat
 * model"): it must be owned by root (or, for an ordinary user, by that user) and not writable by group or
 * others, found or named, and so must every directory above it (src/io/trust.ts; a symlink is not followed).
 * A package.json without a "kexec-ts" property is nobody's config and is skipped before any of that. The bytes
 * are read through the same descriptor that was checked.
 */
import {constants} from 'node:fs';
import {open} from 'node:fs/promises';
import {KexecError} from '../errors.js';
import {assertTrusted} from '../io/trust.js';
import {configFormat, parseConfigText} from './parse-config.js';
import type {KexecConfig} from './schema.js';

/** 'explicit': named by --config or KEXEC_TS_CONFIG (must exist); 'searched': a candidate of the search. */
export type ConfigFileMode = 'explicit' | 'searched';

export interface FileOwnership {
  readonly uid: number;
  readonly mode: number;
}

/** Why kexec-ts must not trust this file, or undefined when it may (the same rules, found or named). */
export function unsafeConfigReason(owner: FileOwnership, euid: number | undefined): string | undefined {
  if ((owner.mode & 0o002) !== 0) return 'it is writable by every user';
  if ((owner.mode & 0o020) !== 0) return 'it is writable by its group';
  if (euid === undefined || owner.uid === 0 || owner.uid === euid) return undefined;
  return euid === 0 ? `it is owned by uid ${owner.uid}, not root, and kexec-ts runs as root` : `it is owned by uid ${owner.uid}, not by you (uid ${euid}) or root`;
}

/** Config files are small; a bound stops a device or a runaway file (and the YAML parser's cost on it). */
const CONFIG_MAX_BYTES = 1 << 20;

function hasKexecKey(text: string): boolean {
  try {
    const o = JSON.parse(text) as unknown;
    return typeof o === 'object' && o !== null && !Array.isArray(o) && Object.hasOwn(o, 'kexec-ts');
  } catch {
    return true; // malformed: parseConfigText names the line
  }
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
    // O_NONBLOCK: a FIFO named as the config must not block before fstat can tell it is not a file.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
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
    if (stat.size > CONFIG_MAX_BYTES) {
      throw new KexecError('usage', `${file}: ${stat.size} bytes; kexec-ts reads config files of at most ${CONFIG_MAX_BYTES}`, {reason: 'config-too-large', details: {file}});
    }
    const text = await handle.readFile({encoding: 'utf8'});
    // Whose package.json it is matters only when it holds a kexec-ts config (JSON is parsed, never run).
    if (configFormat(file) === 'package.json' && !hasKexecKey(text)) {
      if (mode === 'explicit') throw new KexecError('usage', `${file}: no "kexec-ts" property in this package.json`, {reason: 'config-missing', details: {file}});
      return null;
    }
    const unsafe = unsafeConfigReason(stat, process.geteuid?.());
    if (unsafe !== undefined) {
      throw new KexecError('usage', `${file}: refusing to use this config file: ${unsafe}`, {
        reason: 'config-insecure',
        hint: `make it root-owned and not writable by others (chown root ${file}; chmod go-w ${file}), or name a trusted file with --config`,
        details: {file},
      });
    }
    const st = assertTrusted(file, {what: 'config file', kind: 'file', code: 'usage'});
    if (st !== undefined && (st.ino !== stat.ino || st.dev !== stat.dev)) {
      throw new KexecError('usage', `${file}: the config file changed while being read`, {reason: 'config-insecure', details: {file}});
    }
    return parseConfigText(file, text);
  } finally {
    await handle.close();
  }
}
