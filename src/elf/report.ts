/**
 * What `inspect` reports about one ELF file, as plain JSON-ready data (addresses as lowercase hex strings).
 * The JSON contract is documented in README.md ("inspect --json"). Optional extras (notes, FreeBSD module
 * metadata) that are malformed do not hide the rest: they are reported under `warnings`.
 */
import {ELFOSABI_FREEBSD, elfTypeName, machineName, osabiName, programTypeName, sectionFlags, sectionTypeName, segmentFlags} from './constants.js';
import {ElfFile} from './elf-file.js';
import {freebsdFacts, readModuleMetadata, type FreeBsdFacts} from './freebsd.js';
import {hex, isKexecError} from '../errors.js';

export interface ProgramHeaderReport {
  type: string; offset: string; vaddr: string; paddr: string; filesz: string; memsz: string; align: string; flags: string;
}

export interface SectionReport {
  name: string; type: string; addr: string; offset: string; size: string; align: string; flags: string;
}

export interface FreeBsdReport {
  version: number | null;
  interpreter: string | null;
  modules: {name: string; version: number | null}[];
  depends: {name: string; min: number; preferred: number; max: number}[];
}

export interface InspectReport {
  file: string;
  class: 32 | 64;
  endianness: 'little' | 'big';
  type: string;
  machine: string;
  machineCode: number;
  osabi: string;
  osabiCode: number;
  entry: string;
  entryPhysical: string | null;
  programHeaders: ProgramHeaderReport[];
  sections: SectionReport[];
  freebsd: FreeBsdReport | null;
  warnings: string[];
}

export async function inspectFile(path: string): Promise<InspectReport> {
  return inspectElf(await ElfFile.open(path));
}

export function inspectElf(elf: ElfFile): InspectReport {
  const h = elf.header;
  const warnings: string[] = [];
  const entryPhysical = elf.entryPhysical();
  return {
    file: elf.file,
    class: h.class,
    endianness: h.littleEndian ? 'little' : 'big',
    type: elfTypeName(h.type),
    machine: machineName(h.machine),
    machineCode: h.machine,
    osabi: osabiName(h.osabi),
    osabiCode: h.osabi,
    entry: hex(h.entry),
    entryPhysical: entryPhysical === null ? null : hex(entryPhysical),
    programHeaders: elf.programHeaders.map((ph) => ({
      type: programTypeName(ph.type), offset: hex(ph.offset), vaddr: hex(ph.vaddr), paddr: hex(ph.paddr),
      filesz: hex(ph.filesz), memsz: hex(ph.memsz), align: hex(ph.align), flags: segmentFlags(ph.flags),
    })),
    sections: elf.sections.map((sh) => ({
      name: sh.name, type: sectionTypeName(sh.type), addr: hex(sh.addr), offset: hex(sh.offset), size: hex(sh.size),
      align: hex(sh.addralign), flags: sectionFlags(sh.flags),
    })),
    freebsd: freebsdReport(elf, warnings),
    warnings,
  };
}

function freebsdReport(elf: ElfFile, warnings: string[]): FreeBsdReport | null {
  const facts = optional(() => freebsdFacts(elf), warnings) ?? fallbackFacts(elf);
  if (facts === null) return null;
  const md = optional(() => readModuleMetadata(elf), warnings);
  const modules: FreeBsdReport['modules'] = (md?.versions ?? []).map((v) => ({name: v.name, version: v.version}));
  for (const name of md?.modules ?? []) if (!modules.some((m) => m.name === name)) modules.push({name, version: null});
  return {version: facts.version, interpreter: facts.interpreter, modules, depends: md?.depends ?? []};
}

/** When the notes are malformed we still know whether OSABI says FreeBSD. */
function fallbackFacts(elf: ElfFile): FreeBsdFacts | null {
  return elf.header.osabi === ELFOSABI_FREEBSD ? {osabi: true, version: null, interpreter: null} : null;
}

function optional<T>(read: () => T, warnings: string[]): T | undefined {
  try {
    return read();
  } catch (e) {
    if (!isKexecError(e)) throw e;
    warnings.push(e.message);
    return undefined;
  }
}
