/**
 * The set of files handed to the kernel, built as stand/common/module.c builds `preloaded_files`: the kernel
 * first, then each requested module in order, each at the next page after the previous file's end
 * (loadaddr = f_addr + f_size, rounded by the ELF loaders), each followed by its missing dependencies
 * (file_load_dependencies: the module's MDT_DEPEND records in reverse, each satisfied by a loaded module with
 * the right version or loaded through linker.hints and checked again). Stricter than the loader: a dependency
 * satisfied only by a file still waiting for its own dependencies is a cycle, and is refused with its chain.
 */
import {basename} from 'node:path';
import {ET, emName, etName} from '../../elf/constants.js';
import {ElfFile} from '../../elf/elf-file.js';
import type {ModuleDepend} from '../../elf/freebsd.js';
import {KexecError} from '../../errors.js';
import {INPUT_LIMITS, readInput} from '../../io/read-input.js';
import {layoutElfFile} from './elf-layout.js';
import type {PreloadedFile} from './preloaded-file.js';
import {pickVersion, type ModuleSearch} from './module-search.js';
import {layoutObjModule} from './obj-module-layout.js';

export interface ModuleRequest {
  /** A path, or a name searched in the module path. */
  readonly arg: string;
  /** MODINFO_ARGS (loader.conf X_flags). */
  readonly args?: string;
  /** A raw file type (`load -t TYPE`, loader.conf X_type other than an ELF module type). */
  readonly rawType?: string;
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
}

const describeWant = (d: ModuleDepend): string => `${d.name} [${d.min}, ${d.max}] (preferred ${d.preferred})`;

function planError(reason: string, message: string, hint?: string): KexecError {
  return new KexecError('plan', message, hint === undefined ? {reason} : {reason, hint});
}

export async function buildFileSet(kernel: PreloadedFile, kernelElf: ElfFile, arch: 'amd64' | 'arm64', requests: readonly ModuleRequest[], search: ModuleSearch, symbols: boolean): Promise<FileSet> {
  const files: PreloadedFile[] = [kernel];
  const elfs: ElfFile[] = [kernelElf];
  const added: AddedDependency[] = [];
  const pending: string[] = []; // files whose dependencies are being loaded (for cycle detection)
  let loadaddr = kernel.addr + kernel.size;

  const loadedModule = (want: ModuleDepend): PreloadedFile | undefined => {
    const candidates = files.flatMap((f) => f.provides.filter((p) => p.name === want.name).map((p) => ({...p, file: f})));
    return pickVersion(candidates, want)?.file;
  };

  const loadOne = async (path: string, req: Omit<ModuleRequest, 'arg'>, chain: string[]): Promise<PreloadedFile> => {
    const existing = files.find((f) => f.name === path);
    if (existing !== undefined) return existing;
    let file: PreloadedFile;
    if (req.rawType !== undefined) {
      const bytes = await readInput(path, {what: '', maxBytes: INPUT_LIMITS.image});
      file = {name: path, type: req.rawType, addr: loadaddr, size: BigInt(bytes.length), pieces: [{label: basename(path), at: loadaddr, data: bytes, memsz: BigInt(bytes.length)}], metadata: [], provides: [], depends: []};
    } else {
      const elf = await ElfFile.open(path);
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
      const have = loadedModule(dep);
      if (have !== undefined) {
        if (pending.includes(have.name) && have.name !== path) {
          const start = pending.indexOf(have.name);
          const cycle = [...pending.slice(start).map((p) => basename(p)), basename(have.name)].join(' -> ');
          throw planError('dependency-cycle', `module dependency cycle: ${cycle} (${basename(path)} needs ${describeWant(dep)})`);
        }
        continue;
      }
      const found = await search.findModule(dep.name, dep);
      if (found === undefined) {
        throw planError('dependency-missing', `${here.join(' -> ')}: needs module ${describeWant(dep)}, which no loaded file provides and the module path (${search.directories.join(';')}) does not have`,
          'add the directory that holds it with --module-path, or load the module that provides it');
      }
      if (pending.includes(found.path)) {
        const cycle = [...pending.slice(pending.indexOf(found.path)).map((p) => basename(p)), basename(found.path)].join(' -> ');
        throw planError('dependency-cycle', `module dependency cycle: ${cycle}`);
      }
      const dfile = await loadOne(found.path, {}, here);
      added.push({file: found.path, module: dep.name, neededBy: path, how: found.how});
      if (loadedModule(dep) === undefined) {
        const offered = dfile.provides.filter((p) => p.name === dep.name).map((p) => `v${p.version}`).join(', ') || 'no version of it';
        throw planError('dependency-version', `${[...here, basename(found.path)].join(' -> ')}: module ${describeWant(dep)} exists but with wrong version (${basename(found.path)} provides ${offered})`);
      }
    }
    pending.pop();
    return file;
  };

  for (const r of requests) {
    const found = await search.findFile(r.arg);
    if (found === undefined) {
      throw new KexecError('badInput', `${r.arg}: module not found (searched ${r.arg.includes('/') ? 'the path as given' : search.directories.join(';')})`, {
        reason: 'module-not-found', hint: 'give a path, or set the directories with --module-path',
      });
    }
    await loadOne(found.path, r, []);
  }
  return {files, elfs, added};
}

function checkModule(elf: ElfFile, kernel: ElfFile, arch: 'amd64' | 'arm64', chain: string[]): void {
  const where = chain.length > 0 ? ` (needed by ${chain.join(' -> ')})` : '';
  if (elf.header.machine !== kernel.header.machine || elf.header.class !== kernel.header.class) {
    throw new KexecError('badInput', `${elf.file}: ${emName(elf.header.machine)} ELF${elf.header.class} does not match the kernel's ${emName(kernel.header.machine)} ELF${kernel.header.class}${where}`, {reason: 'module-arch'});
  }
  const want = arch === 'amd64' ? ET.REL : ET.DYN;
  if (elf.header.type !== want) {
    throw new KexecError('badInput', `${elf.file}: ${arch} kernel modules are ${want === ET.REL ? 'ET_REL objects' : 'ET_DYN shared objects'}; this file is ${etName(elf.header.type)}${where}`, {reason: 'module-type'});
  }
}
