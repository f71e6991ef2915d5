/**
 * One parsed ELF file: header and both tables eagerly (they are small and must be valid for anything else to
 * make sense), everything else (symbols, relocations, notes, dynamic section) on first use. Byte access is
 * zero-copy: views into the caller's buffer, never copies.
 */
import {BinaryReader, latin1} from './binary-reader.js';
import {PT, SHT} from './constants.js';
import {readDynamic, type DynamicEntry} from './dynamic.js';
import {readHeader, type ElfHeader} from './header.js';
import {readNotes, type ElfNote} from './notes.js';
import {readRelocationSection, type Relocation} from './relocations.js';
import {readSymbols, type ElfSymbol} from './symbols.js';
import {readProgramHeaders, readSectionHeaders, type ProgramHeader, type SectionHeader} from './tables.js';
import {INPUT_LIMITS, readInput} from '../io/read-input.js';

export class ElfFile {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly header: ElfHeader;
  readonly programHeaders: readonly ProgramHeader[];
  readonly sections: readonly SectionHeader[];
  readonly reader: BinaryReader;
  private symbolCache: ElfSymbol[] | undefined;
  private dynsymCache: ElfSymbol[] | undefined;

  private constructor(file: string, bytes: Uint8Array) {
    this.file = file;
    this.bytes = bytes;
    const {header, reader} = readHeader(bytes, file);
    this.header = header;
    this.reader = reader;
    this.programHeaders = readProgramHeaders(reader, header);
    this.sections = readSectionHeaders(reader, header);
  }

  /** Parses `bytes` (named `file` in every error). Throws KexecError (exit 3) for anything malformed. */
  static parse(bytes: Uint8Array, file: string): ElfFile {
    return new ElfFile(file, bytes);
  }

  /** Reads and parses a file; a missing file, a directory or an unreadable one is a one-line KexecError. */
  static async open(path: string): Promise<ElfFile> {
    return ElfFile.parse(await readInput(path, {what: '', maxBytes: INPUT_LIMITS.image}), path);
  }

  get is64(): boolean {
    return this.header.class === 64;
  }

  get loadSegments(): ProgramHeader[] {
    return this.programHeaders.filter((ph) => ph.type === PT.LOAD);
  }

  /** The file bytes of a segment (p_filesz of them; the memsz tail is zero fill and not in the file). */
  segmentData(ph: ProgramHeader): Uint8Array {
    return this.reader.slice(ph.offset, ph.filesz, `program header ${ph.index}`);
  }

  /** A section's bytes; NOBITS sections have none. */
  sectionData(sh: SectionHeader): Uint8Array {
    if (sh.type === SHT.NOBITS || sh.type === SHT.NULL) return new Uint8Array(0);
    return this.reader.slice(sh.offset, sh.size, `section ${sh.name || sh.index}`);
  }

  sectionByName(name: string): SectionHeader | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The full symbol table (SHT_SYMTAB), read once on first use; empty when the file is stripped. */
  symbols(): readonly ElfSymbol[] {
    if (this.symbolCache === undefined) {
      const tab = this.sections.find((s) => s.type === SHT.SYMTAB);
      this.symbolCache = tab === undefined ? [] : readSymbols(this.reader, this.is64, this.sections, tab);
    }
    return this.symbolCache;
  }

  /** The dynamic symbol table (SHT_DYNSYM), read once on first use. */
  dynamicSymbols(): readonly ElfSymbol[] {
    if (this.dynsymCache === undefined) {
      const tab = this.sections.find((s) => s.type === SHT.DYNSYM);
      this.dynsymCache = tab === undefined ? [] : readSymbols(this.reader, this.is64, this.sections, tab);
    }
    return this.dynsymCache;
  }

  /** A named symbol from .symtab, else .dynsym. */
  findSymbol(name: string): ElfSymbol | undefined {
    return this.symbols().find((s) => s.name === name) ?? this.dynamicSymbols().find((s) => s.name === name);
  }

  relocations(section: SectionHeader): Relocation[] {
    return readRelocationSection(this.reader, this.is64, section);
  }

  /** REL/RELA sections that apply to section `target` (sh_info points at the section they relocate). */
  relocationSectionsFor(target: SectionHeader): SectionHeader[] {
    return this.sections.filter((s) => (s.type === SHT.REL || s.type === SHT.RELA) && s.info === target.index);
  }

  /** All notes, from PT_NOTE segments when there are any, else from SHT_NOTE sections. */
  notes(): ElfNote[] {
    const segs = this.programHeaders.filter((ph) => ph.type === PT.NOTE && ph.filesz > 0n);
    if (segs.length > 0) {
      return segs.flatMap((ph) => readNotes(this.reader, ph.offset, ph.filesz, ph.align, `PT_NOTE ${ph.index}`));
    }
    return this.sections
      .filter((s) => s.type === SHT.NOTE && s.size > 0n)
      .flatMap((s) => readNotes(this.reader, s.offset, s.size, s.addralign, `note section ${s.name}`));
  }

  /** The dynamic section's entries (empty when there is none or it has no bytes, as in a .symbols file). */
  dynamic(): DynamicEntry[] {
    const ph = this.programHeaders.find((p) => p.type === PT.DYNAMIC);
    if (ph !== undefined) return ph.filesz === 0n ? [] : readDynamic(this.reader, this.is64, ph.offset, ph.filesz, 'PT_DYNAMIC');
    const sh = this.sections.find((s) => s.type === SHT.DYNAMIC);
    return sh === undefined ? [] : readDynamic(this.reader, this.is64, sh.offset, sh.size, 'section .dynamic');
  }

  /** PT_INTERP's path (FreeBSD kernels carry "/red/herring"), or null. */
  interpreter(): string | null {
    const ph = this.programHeaders.find((p) => p.type === PT.INTERP);
    if (ph === undefined) return null;
    const raw = this.segmentData(ph);
    const nul = raw.indexOf(0);
    return latin1(nul < 0 ? raw : raw.subarray(0, nul));
  }

  /** The PT_LOAD whose [p_vaddr, p_vaddr + p_memsz) holds `vaddr`. */
  loadSegmentForVaddr(vaddr: bigint): ProgramHeader | undefined {
    return this.loadSegments.find((ph) => vaddr >= ph.vaddr && vaddr < ph.vaddr + ph.memsz);
  }

  /** File offset of a virtual address inside a PT_LOAD's file bytes, or undefined (bss or unmapped). */
  vaddrToOffset(vaddr: bigint): bigint | undefined {
    const ph = this.loadSegments.find((p) => vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz);
    return ph === undefined ? undefined : ph.offset + (vaddr - ph.vaddr);
  }

  /** `e_entry` translated through the PT_LOAD that contains it (p_paddr + (e_entry - p_vaddr)), or null. */
  entryPhysical(): bigint | null {
    const ph = this.loadSegmentForVaddr(this.header.entry);
    return ph === undefined ? null : ph.paddr + (this.header.entry - ph.vaddr);
  }
}

