import {test} from 'node:test';
import assert from 'node:assert/strict';
import {ElfFile} from '../../src/elf/elf-file.js';
import {KexecError} from '../../src/errors.js';
import {freebsdFacts} from '../../src/elf/freebsd.js';
import {buildElf, note, symbolTable, u32} from '../fixtures/elf-builder.js';

const KERNEL_ENTRY = 0xffffffff80200124n;

function kernelLike(cls: 32 | 64 = 64, littleEndian = true): Uint8Array {
  const entry = cls === 64 ? KERNEL_ENTRY : 0xc0200124n;
  const base = cls === 64 ? 0xffffffff80200000n : 0xc0200000n;
  const {symtab, strtab} = symbolTable([{name: 'btext', value: entry, shndx: 1, type: 2}], cls === 64, littleEndian);
  return buildElf({
    class: cls, littleEndian, osabi: 9, entry, machine: cls === 64 ? 62 : 3,
    segments: [
      {vaddr: base, paddr: 0x200000n, data: new Uint8Array(0x400).fill(0x90), memsz: 0x2000n, flags: 5},
      {type: 4, vaddr: base + 0x3000n, data: note('FreeBSD', 1, u32(1500000, littleEndian), littleEndian), flags: 4, align: 4n},
    ],
    sections: [
      {name: '.text', type: 1, flags: 6n, addr: base, data: new Uint8Array(16), addralign: 16n},
      {name: '.symtab', type: 2, data: symtab, link: 3, info: 1, addralign: 8n, entsize: cls === 64 ? 24n : 16n},
      {name: '.strtab', type: 3, data: strtab},
      {name: '.bss', type: 8, flags: 3n, addr: base + 0x400n, size: 0x1c00n, addralign: 64n},
    ],
  });
}

test('e_entry 0xffffffff80200124 of a 64-bit kernel-like ELF reads back exactly (no float precision loss)', () => {
  const elf = ElfFile.parse(kernelLike(), 'kernel');
  assert.equal(elf.header.entry, KERNEL_ENTRY);
  assert.equal(elf.entryPhysical(), 0x200124n);
  assert.equal(elf.loadSegments[0]?.vaddr, 0xffffffff80200000n);
  assert.equal(elf.symbols().find((s) => s.name === 'btext')?.value, KERNEL_ENTRY);
});

test('ELF64 sh_addralign and sh_entsize come from their own offsets (48 and 56)', () => {
  const elf = ElfFile.parse(kernelLike(), 'kernel');
  const symtab = elf.sectionByName('.symtab');
  assert.equal(symtab?.addralign, 8n);
  assert.equal(symtab?.entsize, 24n);
  assert.equal(elf.sectionByName('.text')?.addralign, 16n);
});

test('OSABI comes from e_ident[EI_OSABI] and the ABI note gives __FreeBSD_version', () => {
  for (const [cls, le] of [[64, true], [32, true], [64, false], [32, false]] as const) {
    const elf = ElfFile.parse(kernelLike(cls, le), 'k');
    assert.equal(elf.header.osabi, 9);
    assert.equal(elf.header.class, cls);
    assert.equal(elf.header.littleEndian, le);
    assert.deepEqual(freebsdFacts(elf), {osabi: true, version: 1500000, interpreter: null});
    assert.equal(elf.symbols()[1]?.name, 'btext');
  }
});

test('NOBITS sections have no bytes', () => {
  const elf = ElfFile.parse(kernelLike(), 'k');
  const bss = elf.sectionByName('.bss');
  assert.ok(bss);
  assert.equal(bss.size, 0x1c00n);
  assert.equal(elf.sectionData(bss).length, 0);
});

test('segment data is a zero-copy view of the file buffer', () => {
  const bytes = kernelLike();
  const elf = ElfFile.parse(bytes, 'k');
  const view = elf.segmentData(elf.loadSegments[0]!);
  assert.equal(view.buffer, bytes.buffer);
  assert.equal(view.length, 0x400);
});

function expectBadInput(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => ElfFile.parse(bytes, 'hostile.elf'), (e: unknown) => {
    assert.ok(e instanceof KexecError, `expected KexecError, got ${String(e)}`);
    assert.equal(e.code, 3);
    assert.match(e.message, /^hostile\.elf: /);
    assert.match(e.message, pattern);
    return true;
  });
}

test('malformed inputs give one typed error naming the structure and value', async (t) => {
  const good = kernelLike();
  const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mutate = (f: (b: Uint8Array) => void): Uint8Array => {
    const b = good.slice();
    f(b);
    return b;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['not ELF', new TextEncoder().encode('#!/bin/sh\necho hi\n'), /not an ELF file/],
    ['empty', new Uint8Array(0), /not an ELF file/],
    ['bad class', mutate((b) => (b[4] = 7)), /EI_CLASS.*invalid class 7/],
    ['bad data', mutate((b) => (b[5] = 0)), /EI_DATA/],
    ['truncated header', good.subarray(0, 40), /ELF header: needs bytes/],
    ['truncated program headers', good.subarray(0, 64 + 56 + 10), /program header table/],
    ['e_phentsize wrong', mutate((b) => dv(b).setUint16(54, 32, true)), /e_phentsize: 32/],
    ['e_shentsize wrong', mutate((b) => dv(b).setUint16(58, 40, true)), /e_shentsize: 40/],
    ['filesz > memsz', mutate((b) => dv(b).setBigUint64(64 + 40, 0x10n, true)), /p_filesz 0x400 is larger than p_memsz 0x10/],
    ['phoff far outside', mutate((b) => dv(b).setBigUint64(32, 0xffffffffffff0000n, true)), /program header table/],
    ['segment offset outside', mutate((b) => dv(b).setBigUint64(64 + 8, 0x7fffffffffffn, true)), /program header 0/],
    ['shstrndx out of range', mutate((b) => dv(b).setUint16(62, 200, true)), /e_shstrndx: 200/],
    ['PT_LOAD wraps', mutate((b) => dv(b).setBigUint64(64 + 40, 0xffffffffffffff00n, true)), /wraps past the end/],
  ];
  for (const [name, bytes, pattern] of cases) await t.test(name, () => expectBadInput(bytes, pattern));
});

test('a 1 GiB-style header claiming 2^32 program headers fails fast without allocating', () => {
  // Extended numbering: e_phnum = PN_XNUM, real count in section 0's sh_info.
  const b = kernelLike().slice();
  const dv = new DataView(b.buffer);
  dv.setUint16(56, 0xffff, true);
  const shoff = Number(dv.getBigUint64(40, true));
  dv.setUint32(shoff + 44, 0xffffffff, true);
  // How fast it fails is measured by `npm run bench:limits`, not asserted here.
  expectBadInput(b, /program header table \(4294967295 entries/);
});

test('extended numbering: counts and shstrndx from section 0', () => {
  const b = kernelLike().slice();
  const dv = new DataView(b.buffer);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  dv.setUint16(56, 0xffff, true); // e_phnum = PN_XNUM
  dv.setUint16(60, 0, true); // e_shnum = 0
  dv.setUint16(62, 0xffff, true); // e_shstrndx = SHN_XINDEX
  dv.setUint32(shoff + 44, 2, true); // sh_info = phnum
  dv.setBigUint64(shoff + 32, BigInt(shnum), true); // sh_size = shnum
  dv.setUint32(shoff + 40, shstrndx, true); // sh_link = shstrndx
  const elf = ElfFile.parse(b, 'x');
  assert.equal(elf.header.phnum, 2);
  assert.equal(elf.header.shnum, shnum);
  assert.equal(elf.sectionByName('.symtab')?.name, '.symtab');
});

test('a string table without a terminator is refused', () => {
  const b = kernelLike().slice();
  // Overwrite the whole .shstrtab with non-NUL bytes.
  const elf = ElfFile.parse(b, 'x');
  const sh = elf.sections[elf.header.shstrndx]!;
  b.fill(0x41, Number(sh.offset), Number(sh.offset + sh.size));
  expectBadInput(b, /no NUL terminator/);
});
