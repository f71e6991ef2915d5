/**
 * Finding module files in a root file system (the host's, a mounted boot environment, a snapshot's), as
 * stand/common/module.c does:
 *   - a name with a '/' is a path, used as written;
 *   - otherwise, for each directory of module_path in order: look the module name up in DIR/linker.hints
 *     (MDT_VERSION records; an exact match on the preferred version wins at once, else the highest version within
 *     [min, max]; with no version wanted, the first record), and when no record names it, try DIR/NAME.ko,
 *     DIR/NAME and DIR/NAME.debug. The first directory that yields a file wins.
 * Version matching of modules already loaded (file_findmodule) uses the same preference rule.
 */
import {resolve} from 'node:path';
import {MDT, type ModuleDepend} from '../../elf/freebsd.js';
import {KexecError} from '../../errors.js';
import {RootFs} from '../../io/root-fs.js';
import {isPlainModuleName, readLinkerHints, type HintRecord} from './linker-hints.js';

export const DEFAULT_MODULE_PATH = '/boot/kernel;/boot/modules';

/** module_path split on ';', trailing '/' trimmed, duplicates dropped, order kept. */
export function parseModulePath(path: string | readonly string[]): string[] {
  const parts = typeof path === 'string' ? path.split(';') : [...path];
  const out: string[] = [];
  for (const p of parts) {
    const d = p.trim().replace(/\/+$/, '') || (p.trim().startsWith('/') ? '/' : '');
    if (d !== '' && !out.includes(d)) out.push(d);
  }
  return out;
}

/** The preferred candidate for a dependency: exact preferred version, else the highest within [min, max]. */
export function pickVersion<T extends {version: number}>(candidates: readonly T[], want: ModuleDepend | undefined): T | undefined {
  if (want === undefined) return candidates[0];
  const exact = candidates.find((c) => c.version === want.preferred);
  if (exact !== undefined) return exact;
  // module.c starts bestver at 0 and takes a candidate only when `ival > bestver`: version 0 is never "best".
  let best: T | undefined;
  for (const c of candidates) {
    if (c.version >= want.min && c.version <= want.max && c.version > (best?.version ?? 0)) best = c;
  }
  return best;
}

export interface SearchResult {
  /** The path inside the root, as the loader names the file (MODINFO_NAME). */
  readonly path: string;
  /** Where the file is on this machine. */
  readonly hostPath: string;
  /** How it was found, for the report: "linker.hints in DIR (name vN)" or "file name in DIR". */
  readonly how: string;
}

export class ModuleSearch {
  private readonly dirs: readonly string[];
  private readonly hints = new Map<string, HintRecord[] | undefined>();

  constructor(modulePath: string | readonly string[], readonly fs: RootFs = new RootFs('/')) {
    this.dirs = parseModulePath(modulePath);
  }

  /** A relative path (a --module-path given relative to the working directory) is looked up here, not in the root. */
  private async isFile(path: string): Promise<boolean> {
    return path.startsWith('/') ? (await this.fs.kind(path)) === 'file' : (await new RootFs('/').kind(resolve(path))) === 'file';
  }

  /** A found file: its name inside the root and where it is here. */
  private found(path: string, how: string): SearchResult {
    return {path, hostPath: path.startsWith('/') ? this.fs.hostPath(path) : path, how};
  }

  get directories(): readonly string[] {
    return this.dirs;
  }

  private async hintsOf(dir: string): Promise<HintRecord[] | undefined> {
    if (!this.hints.has(dir)) this.hints.set(dir, dir.startsWith('/') ? await readLinkerHints(this.fs, dir) : undefined);
    return this.hints.get(dir);
  }

  /** mod_search_hints plus the file-name fallback. */
  async findModule(name: string, want?: ModuleDepend): Promise<SearchResult | undefined> {
    // An MDT_DEPEND name comes from a module file: "../x" would make module.c open a file outside the module
    // path. kexec-ts is stricter than the loader here and refuses it.
    if (!isPlainModuleName(name)) {
      throw new KexecError('badInput', `module name ${JSON.stringify(name)} contains "/" or "..": kexec-ts refuses module names that leave the module directory (stricter than the loader, stand/common/module.c, which would follow it)`, {
        reason: 'module-name-unsafe', hint: 'the module that depends on it is malformed or hostile',
      });
    }
    for (const dir of this.dirs) {
      const records = (await this.hintsOf(dir)) ?? [];
      const versions = records.filter((r) => r.type === MDT.VERSION && r.modname === name).map((r) => ({...r, version: r.version ?? 0}));
      const pick = pickVersion(versions, want);
      if (pick !== undefined) {
        const path = `${dir}/${pick.kldfile}`;
        if (await this.isFile(path)) return this.found(path, `linker.hints in ${dir} (${name} v${pick.version} in ${pick.kldfile})`);
      }
      // module.c: "if nothing found or hints is absent - fallback to the old way" (kldname[.ko]).
      if (pick === undefined) {
        for (const ext of ['.ko', '', '.debug']) {
          const path = `${dir}/${name}${ext}`;
          if (await this.isFile(path)) return this.found(path, `file name ${name}${ext} in ${dir}`);
        }
      }
    }
    return undefined;
  }

  /** `load PATH` (file_search on a qualified name): the path as given, when it is a file. */
  async findFile(path: string): Promise<SearchResult | undefined> {
    return (await this.isFile(path)) ? this.found(path, 'path') : undefined;
  }

  /** `load -t TYPE NAME` (file_loadraw -> file_search with no extensions): a path, or NAME in a module directory. */
  async findRaw(name: string): Promise<SearchResult | undefined> {
    if (name.includes('/')) return this.findFile(name);
    for (const dir of this.dirs) {
      const path = `${dir}/${name}`;
      if (await this.isFile(path)) return this.found(path, `file name ${name} in ${dir}`);
    }
    return undefined;
  }
}
