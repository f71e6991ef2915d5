/**
 * One parsed ELF file: header and both tables eagerly (they are small and must be valid for anything else to
 * make sense), everything else (symbols, relocations, notes, dynamic section) on first use. A file read by
 * `open` stays in memory only when it is small; a large one (a big kernel, a firmware image of GiBs) is read
 * where the parser looks (BinaryReader's pages), and its PT_LOAD bytes are handed on as FileBytes, read in chunks
 * when they are hashed or staged. Byte access to an in-memory file is zero-copy: views, never copies.
 */
import {BinaryReader, latin1} from './binary-reader.js';
import {PT, SHT} from './constants.js';
import {readDynamic, type DynamicEntry} from './dynamic.js';
import {readHeader, type ElfHeader} from './header.js';
import {readNotes, type ElfNote} from './notes.js';
import {readRelocationSection, type Relocation} from './relocations.js';
import {readSymbols, type ElfSymbol} from './symbols.js';
import {readProgramHeaders, readSectionHeaders, type ProgramHeader, type SectionHeader} from './tables.js';
import {FileBytes, type Bytes} from '../io/file-bytes.js';
import {InputFile} from '../io/input-file.js';
import {INPUT_LIMITS} from '../io/read-input.js';

/** Files up to this size are read whole (one read is fastest); larger ones are read where needed. */
export const ELF_IN_MEMORY_MAX = 32 << 20;

export class ElfFile {
  readonly file: string;
  /** The file's size in bytes. */
  readonly size: number;
  /** The input the bytes come from when the file was opened by path (undefined for parsed buffers). */
  readonly input: InputFile | undefined;
  readonly header: ElfHeader;
  readonly programHeaders: readonly ProgramHeader[];
  readonly sections: readonly SectionHeader[];
  readonly reader: BinaryReader;
  private symbolCache: ElfSymbol[] | undefined;
  private dynsymCache: ElfSymbol[] | undefined;

  private readonly segmentCache = new Map<number, Uint8Array>();

  /** True when every byte is in memory (a parsed buffer, or a small file read whole). */
  private readonly inMemory: boolean;

  private constructor(file: string, source: Uint8Array | InputFile, input?: InputFile) {
    this.file = file;
    this.input = input ?? (source instanceof InputFile ? source : undefined);
    this.inMemory = source instanceof Uint8Array;
    this.size = source instanceof InputFile ? source.size : source.length;
    const {header, reader} = readHeader(source instanceof InputFile ? {size: BigInt(source.size), fetch: (o, n) => source.read(o, n)} : source, file);
    this.header = header;
    this.reader = reader;
    this.programHeaders = readProgramHeaders(reader, header);
    this.sections = readSectionHeaders(reader, header);
  }

  /** Parses `bytes` (named `file` in every error). Throws KexecError (exit 3) for anything malformed. */
  static parse(bytes: Uint8Array, file: string): ElfFile {
    return new ElfFile(file, bytes);
  }

  /**
   * Reads and parses a file; a missing file, a directory or an unreadable one is a one-line KexecError. Small
   * files are read whole; `inMemoryMax` is for tests of the large-file path.
   */
  static async open(path: string, inMemoryMax = ELF_IN_MEMORY_MAX): Promise<ElfFile> {
    const input = InputFile.open(path, {what: '', maxBytes: INPUT_LIMITS.image});
    return new ElfFile(path, input.size <= inMemoryMax ? input.read(0, input.size) : input, input);
  }

  get is64(): boolean {
    return this.header.class === 64;
  }

  get loadSegments(): ProgramHeader[] {
    return this.programHeaders.filter((ph) => ph.type === PT.LOAD);
  }

  /**
   * The file bytes of a segment (p_filesz of them; the memsz tail is zero fill and not in the file), in memory:
   * for the parser's own look inside (FreeBSD module metadata). Read once per segment for a large file.
   */
  segmentData(ph: ProgramHeader): Uint8Array {
    let b = this.segmentCache.get(ph.index);
    if (b === undefined) {
      b = this.reader.slice(ph.offset, ph.filesz, `program header ${ph.index}`);
      this.segmentCache.set(ph.index, b);
    }
    return b;
  }

  /** The same bytes for loading: still in the file when the file is large (read in chunks when hashed or staged). */
  segmentBytes(ph: ProgramHeader): Bytes {
    if (this.inMemory || this.input === undefined) return this.segmentData(ph);
    const offset = this.reader.check(ph.offset, ph.filesz, `program header ${ph.index}`);
    return new FileBytes(this.input, offset, Number(ph.filesz));
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

