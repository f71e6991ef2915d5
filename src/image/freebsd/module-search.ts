/**
 * Finding module files, as stand/common/module.c does:
 *   - a name with a '/' is a path, used as written;
 *   - otherwise, for each directory of module_path in order: look the module name up in DIR/linker.hints
 *     (MDT_VERSION records; an exact match on the preferred version wins at once, else the highest version within
 *     [min, max]; with no version wanted, the first record), and when no record names it, try DIR/NAME.ko,
 *     DIR/NAME and DIR/NAME.debug. The first directory that yields a file wins.
 * Version matching of modules already loaded (file_findmodule) uses the same preference rule.
 */
import {stat} from 'node:fs/promises';
import {MDT, type ModuleDepend} from '../../elf/freebsd.js';
import {readLinkerHints, type HintRecord} from './linker-hints.js';

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

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export interface SearchResult {
  readonly path: string;
  /** How it was found, for the report: "linker.hints in DIR (name vN)" or "file name in DIR". */
  readonly how: string;
}

export class ModuleSearch {
  private readonly dirs: readonly string[];
  private readonly hints = new Map<string, HintRecord[] | undefined>();

  constructor(modulePath: string | readonly string[]) {
    this.dirs = parseModulePath(modulePath);
  }

  get directories(): readonly string[] {
    return this.dirs;
  }

  private async hintsOf(dir: string): Promise<HintRecord[] | undefined> {
    if (!this.hints.has(dir)) this.hints.set(dir, await readLinkerHints(dir));
    return this.hints.get(dir);
  }

  /** mod_search_hints plus the file-name fallback. */
  async findModule(name: string, want?: ModuleDepend): Promise<SearchResult | undefined> {
    for (const dir of this.dirs) {
      const records = (await this.hintsOf(dir)) ?? [];
      const versions = records.filter((r) => r.type === MDT.VERSION && r.modname === name).map((r) => ({...r, version: r.version ?? 0}));
      const pick = pickVersion(versions, want);
      if (pick !== undefined) {
        const path = `${dir}/${pick.kldfile}`;
        if (await isFile(path)) return {path, how: `linker.hints in ${dir} (${name} v${pick.version} in ${pick.kldfile})`};
      }
      // module.c: "if nothing found or hints is absent - fallback to the old way" (kldname[.ko]).
      if (pick === undefined) {
        for (const ext of ['.ko', '', '.debug']) {
          const path = `${dir}/${name}${ext}`;
          if (await isFile(path)) return {path, how: `file name ${name}${ext} in ${dir}`};
        }
      }
    }
    return undefined;
  }

  /** A kld given on the command line or in loader.conf: a path, or a name searched like `load NAME`. */
  async findFile(arg: string): Promise<SearchResult | undefined> {
    if (arg.includes('/')) return (await isFile(arg)) ? {path: arg, how: 'path'} : undefined;
    const byModule = await this.findModule(arg);
    if (byModule !== undefined) return byModule;
    for (const dir of this.dirs) {
      for (const ext of ['.ko', '', '.debug']) {
        const path = `${dir}/${arg}${ext}`;
        if (await isFile(path)) return {path, how: `file name ${arg}${ext} in ${dir}`};
      }
    }
    return undefined;
  }
}
