/**
 * The set of files handed to the kernel, built as stand/common/module.c builds `preloaded_files`: the kernel
 * first, then each requested file in order, each at the next page after the previous file's end
 * (loadaddr = f_addr + f_size, rounded by the ELF loaders), each followed by its missing dependencies.
 *   - `load NAME` (no '/') is mod_load(): when a file already loaded provides module NAME (the kernel included), it
 *     is not loaded again ("module 'NAME' already loaded"); else the module path is searched (mod_searchmodule:
 *     linker.hints MDT_VERSION records, then NAME.ko, NAME, NAME.debug per directory);
 *   - `load PATH` is mod_loadkld(): the same path twice is loaded once ("KLD 'PATH' already loaded");
 *   - `load -t TYPE NAME` is file_loadraw(): the bytes as they are (md_image, boot_entropy_cache, hostuuid...);
 *   - file_load_dependencies(): each MDT_DEPEND of a new file, in the loader's (reverse) order, is satisfied by the
 *     first loaded file (file_findmodule) with an acceptable version, or loaded with mod_load and checked again.
 * Requests from loader.conf are optional, as there: one that fails is dropped with everything it pulled in
 * (file_load_dependencies discards them) and the rest goes on; requests from the command line must succeed.
 * Stricter than the loader: a dependency satisfied only by a file still waiting for its own dependencies is a
 * cycle, refused with its chain. Files are named (MODINFO_NAME) by their path inside the root file system.
 */
import {basename} from 'node:path';
import {ET, emName, etName} from '../../elf/constants.js';
import {ElfFile} from '../../elf/elf-file.js';
import type {ModuleDepend} from '../../elf/freebsd.js';
import {KexecError} from '../../errors.js';
import {FileBytes} from '../../io/file-bytes.js';
import {InputFile} from '../../io/input-file.js';
import {INPUT_LIMITS} from '../../io/read-input.js';
import {layoutElfFile} from './elf-layout.js';
import {pickVersion, type ModuleSearch, type SearchResult} from './module-search.js';
import {layoutObjModule} from './obj-module-layout.js';
import type {PreloadedFile} from './preloaded-file.js';

export interface ModuleRequest {
  /** A path, or a name searched in the module path. */
  readonly arg: string;
  /** MODINFO_ARGS (loader.conf X_flags). */
  readonly args?: string;
  /** A raw file type (`load -t TYPE`: loader.conf X_type). */
  readonly rawType?: string;
  /** Where an optional request comes from (a loader.conf line): it may fail without stopping the plan. */
  readonly optional?: string;
}

export interface AddedDependency {
  readonly file: string;
  readonly module: string;
  readonly neededBy: string;
  readonly how: string;
}

export interface FileSet {
  readonly files: PreloadedFile[];
  readonly elfs: ElfFile[];
  readonly added: AddedDependency[];
  /** "module 'x' already loaded", optional requests that failed, ... */
  readonly notes: string[];
}

const describeWant = (d: ModuleDepend): string => `${d.name} [${d.min}, ${d.max}] (preferred ${d.preferred})`;

/** Most files (the kernel and its modules) one plan holds; a bound on the work of a hostile dependency chain. */
export const MAX_PRELOADED_FILES = 256;

function planError(reason: string, message: string, hint?: string): KexecError {
  return new KexecError('plan', message, hint === undefined ? {reason} : {reason, hint});
}

export async function buildFileSet(kernel: PreloadedFile, kernelElf: ElfFile, arch: 'amd64' | 'arm64', requests: readonly ModuleRequest[], search: ModuleSearch, symbols: boolean): Promise<FileSet> {
  const files: PreloadedFile[] = [kernel];
  const elfs: ElfFile[] = [kernelElf];
  const added: AddedDependency[] = [];
  const notes: string[] = [];
  /** Dependencies satisfied by a file already loaded: module -> provider and who needed it. */
  const satisfied = new Map<string, {provider: string; neededBy: string[]}>();
  const pending: string[] = []; // files whose dependencies are being loaded (for cycle detection)
  let loadaddr = kernel.addr + kernel.size;

  /** file_findmodule(NULL, name, verinfo): the first loaded file with an acceptable version of the module. */
  const loadedModule = (name: string, want?: ModuleDepend): PreloadedFile | undefined =>
    files.find((f) => pickVersion(f.provides.filter((p) => p.name === name), want) !== undefined);

  const loadOne = async (found: SearchResult, req: Omit<ModuleRequest, 'arg'>, chain: string[]): Promise<PreloadedFile> => {
    const path = found.path;
    // mod_loadkld(): a file already loaded (the kernel itself, found by name for a "kernel" dependency of another
    // version) is not loaded twice; the version check after the caller's search then names what it provides.
    const existing = files.find((f) => f.name === path);
    if (existing !== undefined) return existing;
    if (files.length >= MAX_PRELOADED_FILES) {
      throw planError('too-many-modules', `${[...chain, basename(path)].slice(-3).join(' -> ')}: more than ${MAX_PRELOADED_FILES} files (kernel and modules); kexec-ts refuses longer module sets and dependency chains (README "Limits")`);
    }
    let file: PreloadedFile;
    if (req.rawType !== undefined) {
      // A raw file (md_image, mfs_root, entropy, ...) may be GiBs: it stays in its file, read in chunks when used.
      const input = InputFile.open(found.hostPath, {what: '', maxBytes: INPUT_LIMITS.image});
      const bytes = new FileBytes(input, 0, input.size);
      file = {name: path, type: req.rawType, addr: loadaddr, size: BigInt(bytes.length), pieces: [{label: basename(path), at: loadaddr, data: bytes, memsz: BigInt(bytes.length)}], metadata: [], provides: [], depends: []};
    } else {
      const elf = await ElfFile.open(found.hostPath);
      checkModule(elf, kernelElf, arch, chain);
      file = elf.header.type === ET.REL
        ? layoutObjModule(elf, path, loadaddr, req.args)
        : layoutElfFile(elf, {arch, name: path, loadaddr, symbols, ...(req.args === undefined ? {} : {args: req.args})});
      elfs.push(elf);
    }
    files.push(file);
    loadaddr = file.addr + file.size;
    pending.push(path);
    const here = [...chain, basename(path)];
    for (const dep of [...file.depends].reverse()) {
      const own = file.provides.filter((p) => p.name === dep.name);
      if (own.length > 0) {
        // A module may name itself (DECLARE_MODULE's own MODULE_DEPEND), but with a version it provides.
        if (pickVersion(own, dep) !== undefined) continue;
        throw planError('dependency-version', `${here.join(' -> ')}: depends on its own module ${describeWant(dep)} but provides ${own.map((p) => `v${p.version}`).join(', ')}`);
      }
      const have = loadedModule(dep.name, dep);
      if (have !== undefined) {
        if (pending.includes(have.name) && have.name !== path) {
          const start = pending.indexOf(have.name);
          const cycle = [...pending.slice(start).map((p) => basename(p)), basename(have.name)].join(' -> ');
          throw planError('dependency-cycle', `module dependency cycle: ${cycle} (${basename(path)} needs ${describeWant(dep)})`);
        }
        const s = satisfied.get(dep.name) ?? {provider: have.name, neededBy: []};
        s.neededBy.push(basename(path));
        satisfied.set(dep.name, s);
        continue;
      }
      const dfound = await search.findModule(dep.name, dep);
      if (dfound === undefined) {
        throw planError('dependency-missing', `${here.join(' -> ')}: needs module ${describeWant(dep)}, which no loaded file provides and the module path (${search.directories.join(';')}) does not have`,
          'add the directory that holds it with --module-path, or load the module that provides it');
      }
      if (pending.includes(dfound.path)) {
        const cycle = [...pending.slice(pending.indexOf(dfound.path)).map((p) => basename(p)), basename(dfound.path)].join(' -> ');
        throw planError('dependency-cycle', `module dependency cycle: ${cycle}`);
      }
      const dfile = await loadOne(dfound, {}, here);
      added.push({file: dfound.path, module: dep.name, neededBy: path, how: dfound.how});
      if (loadedModule(dep.name, dep) === undefined) {
        const offered = dfile.provides.filter((p) => p.name === dep.name).map((p) => `v${p.version}`).join(', ') || 'no version of it';
        throw planError('dependency-version', `${[...here, basename(dfound.path)].join(' -> ')}: module ${describeWant(dep)} exists but with wrong version (${basename(dfound.path)} provides ${offered})`);
      }
    }
    pending.pop();
    return file;
  };

  /** One `load` command; returns false when it did nothing because the file or module is already there. */
  const request = async (r: ModuleRequest): Promise<void> => {
    if (r.rawType !== undefined) {
      if (files.some((f) => f.name === r.arg && f.type === r.rawType)) {
        notes.push(`file '${r.arg}' already loaded`);
        return;
      }
    } else if (!r.arg.includes('/')) {
      const provider = loadedModule(r.arg);
      if (provider !== undefined) {
        notes.push(`module '${r.arg}' already loaded (in ${basename(provider.name)}), not loaded again`);
        return;
      }
    }
    const found = r.rawType !== undefined ? await search.findRaw(r.arg) : r.arg.includes('/') ? await search.findFile(r.arg) : await search.findModule(r.arg);
    if (found === undefined) {
      throw new KexecError('badInput', `${r.arg}: ${r.rawType === undefined ? 'module' : `${r.rawType} file`} not found (searched ${r.arg.includes('/') ? 'the path as given' : search.directories.join(';')})`, {
        reason: 'module-not-found', hint: 'give a path, or set the directories with --module-path',
      });
    }
    if (files.some((f) => f.name === found.path)) {
      notes.push(`KLD '${found.path}' already loaded`);
      return;
    }
    await loadOne(found, r, []);
  };

  for (const r of requests) {
    if (r.optional === undefined) {
      await request(r);
      continue;
    }
    // The loader discards a failed load and everything it pulled in, and goes on (config.lua loadModule).
    const mark = {files: files.length, elfs: elfs.length, added: added.length, loadaddr};
    try {
      await request(r);
    } catch (e) {
      if (!(e instanceof KexecError) || e.code === 1) throw e;
      files.length = mark.files;
      elfs.length = mark.elfs;
      added.length = mark.added;
      loadaddr = mark.loadaddr;
      pending.length = 0;
      notes.push(`${r.optional}: loading ${r.arg} failed, so the loader would boot without it: ${e.message}`);
    }
  }
  for (const [module, s] of satisfied) {
    const who = s.neededBy.length > 3 ? `${s.neededBy.slice(0, 3).join(', ')} and ${s.neededBy.length - 3} more` : s.neededBy.join(', ');
    notes.push(`module '${module}' already loaded (in ${basename(s.provider)}), needed by ${who}`);
  }
  return {files, elfs, added, notes};
}

function checkModule(elf: ElfFile, kernel: ElfFile, arch: 'amd64' | 'arm64', chain: string[]): void {
  const where = chain.length > 0 ? ` (needed by ${chain.join(' -> ')})` : '';
  if (elf.header.machine !== kernel.header.machine || elf.header.class !== kernel.header.class) {
    throw new KexecError('badInput', `${elf.file}: ${emName(elf.header.machine)} ELF${elf.header.class} does not match the kernel's ${emName(kernel.header.machine)} ELF${kernel.header.class}${where}`, {reason: 'module-arch'});
  }
  const want = arch === 'amd64' ? ET.REL : ET.DYN;
  if (elf.header.type !== want) {
    throw new KexecError('badInput', `${elf.file}: ${arch} kernel modules are ${etName(want)} objects; this file is ${etName(elf.header.type)}${where}`, {reason: 'module-type'});
  }
}
