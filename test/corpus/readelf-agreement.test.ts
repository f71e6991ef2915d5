/**
 * `inspect` against GNU readelf on every file of the real-ELF corpus: header facts (class, byte order, OS/ABI,
 * type, machine name and e_machine, entry, section count) and every program header row, compared as numbers.
 * The reports come in-process from inspectFile(); one run of the compiled CLI checks that --json gives the same.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {openSync, readSync, closeSync} from 'node:fs';
import {inspectFile, type InspectReport} from '../../src/elf/report.js';
import {CLI_BUILT, CORPUS_SKIP, READELF_SKIP, corpusFile, loadManifest, readelf, runCli} from '../helpers/corpus.js';

const skip = CORPUS_SKIP || READELF_SKIP;
const manifest = loadManifest();

/** readelf's program header type names (as printed, cut to 14 characters) and the values they stand for. */
const PT_BY_NAME: Record<string, number> = {
  NULL: 0, LOAD: 1, DYNAMIC: 2, INTERP: 3, NOTE: 4, SHLIB: 5, PHDR: 6, TLS: 7,
  GNU_EH_FRAME: 0x6474e550, GNU_STACK: 0x6474e551, GNU_RELRO: 0x6474e552, GNU_PROPERTY: 0x6474e553,
  GNU_SFRAME: 0x6474e554, OPENBSD_RANDOMIZE: 0x65a3dbe6, OPENBSD_WXNEEDED: 0x65a3dbe7, OPENBSD_BOOTDATA: 0x65a41be6,
  LOPROC: 0x70000000, EXIDX: 0x70000001, ARM_EXIDX: 0x70000001, RISCV_ATTRIBUTES: 0x70000003,
};

/** A program header type name (readelf's, possibly cut to 14 characters, or ours) as its numeric value. */
function ptValue(name: string): number | undefined {
  const n = name.trim();
  let m = /^(?:<unknown>: )?0x([0-9a-f]+)$/i.exec(n);
  if (m) return Number.parseInt(m[1] as string, 16);
  m = /^(LOOS|LOPROC|LOUSER)\+0x([0-9a-f]+)$/i.exec(n);
  if (m) return {LOOS: 0x60000000, LOPROC: 0x70000000, LOUSER: 0x80000000}[m[1] as 'LOOS'] + Number.parseInt(m[2] as string, 16);
  const key = Object.keys(PT_BY_NAME).find((k) => k === n || (n.length === 14 && k.startsWith(n)));
  return key === undefined ? undefined : PT_BY_NAME[key];
}

interface ReadelfPhdr {
  type: string; offset: bigint; vaddr: bigint; paddr: bigint; filesz: bigint; memsz: bigint; flags: string; align: bigint;
}

interface ReadelfFacts {
  class: number; endianness: string; osabi: string; type: string; machine: string; entry: bigint;
  sectionCount: number; phnum: number; phdrs: ReadelfPhdr[];
}

function headerField(out: string, label: string): string {
  const m = new RegExp(`^\\s*${label}:[ \\t]+(.*?)\\s*$`, 'm').exec(out);
  assert.ok(m, `readelf printed no "${label}:" line`);
  return m[1] as string;
}

// "  LOAD           0x001000 0x0000000001000000 0x0000000001000000 0x00c000 0x00c000 R E 0x1000" (readelf -W)
const ROW = /^ {2}(.{14}) (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+) ([R ][W ][E ]) (0x[0-9a-f]+)\s*$/;

function parseReadelf(out: string): ReadelfFacts {
  const shnum = headerField(out, 'Number of section headers');
  const extended = /\((\d+)\)/.exec(shnum); // "0 (1234)" when e_shnum overflows into section 0
  const phdrs: ReadelfPhdr[] = [];
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Program Headers:'));
  if (start >= 0) {
    for (const line of lines.slice(start + 2)) {
      if (line.trim() === '' || line.startsWith(' Section to Segment')) break;
      if (/^\s+\[Requesting program interpreter: .*\]$/.test(line)) continue;
      const m = ROW.exec(line);
      assert.ok(m, `cannot parse readelf program header line ${JSON.stringify(line)}`);
      const [, type, offset, vaddr, paddr, filesz, memsz, flags, align] = m as unknown as string[];
      phdrs.push({
        type: (type as string).trim(), offset: BigInt(offset as string), vaddr: BigInt(vaddr as string),
        paddr: BigInt(paddr as string), filesz: BigInt(filesz as string), memsz: BigInt(memsz as string),
        flags: flags as string, align: BigInt(align as string),
      });
    }
  }
  return {
    class: Number(headerField(out, 'Class').replace('ELF', '')),
    endianness: /little endian/.test(headerField(out, 'Data')) ? 'little' : /big endian/.test(headerField(out, 'Data')) ? 'big' : '?',
    osabi: headerField(out, 'OS/ABI'),
    type: headerField(out, 'Type').split(' ')[0] as string,
    machine: headerField(out, 'Machine'),
    entry: BigInt(headerField(out, 'Entry point address')),
    sectionCount: extended ? Number(extended[1]) : Number.parseInt(shnum, 10),
    phnum: Number.parseInt(headerField(out, 'Number of program headers'), 10),
    phdrs,
  };
}

/** e_ident[EI_CLASS], e_ident[EI_DATA], e_ident[EI_OSABI], e_type and e_machine read straight from the file. */
function rawIdent(path: string): {cls: number; little: boolean; osabi: number; type: number; machine: number} {
  const buf = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  try {
    assert.equal(readSync(fd, buf, 0, 20, 0), 20, `${path}: shorter than 20 bytes`);
  } finally {
    closeSync(fd);
  }
  const little = buf[5] === 1;
  const u16 = (at: number): number => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  return {cls: buf[4] === 2 ? 64 : 32, little, osabi: buf[7] as number, type: u16(16), machine: u16(18)};
}

/** Every field where `ours` and readelf disagree, as "field: ours X, readelf Y". */
function compare(ours: InspectReport, re: ReadelfFacts, raw: ReturnType<typeof rawIdent>): string[] {
  const diffs: string[] = [];
  const show = (v: unknown): string => (typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v));
  const eq = (field: string, a: unknown, b: unknown): void => {
    if (a !== b) diffs.push(`${field}: ours ${show(a)}, readelf ${show(b)}`);
  };
  eq('class', ours.class, re.class);
  eq('class (e_ident)', ours.class, raw.cls);
  eq('endianness', ours.endianness, re.endianness);
  eq('osabi', ours.osabi, re.osabi);
  eq('osabiCode (e_ident[EI_OSABI])', ours.osabiCode, raw.osabi);
  eq('type', ours.type, re.type);
  eq('machine', ours.machine, re.machine);
  eq('machineCode (e_machine)', ours.machineCode, raw.machine);
  eq('entry', BigInt(ours.entry), re.entry);
  eq('section count', ours.sections.length, re.sectionCount);
  eq('program header count (e_phnum)', ours.programHeaders.length, re.phnum);
  eq('program header rows', ours.programHeaders.length, re.phdrs.length);
  re.phdrs.forEach((r, i) => {
    const o = ours.programHeaders[i];
    if (o === undefined) return;
    const p = `programHeaders[${i}]`;
    const theirType = ptValue(r.type);
    if (theirType === undefined) diffs.push(`${p}.type: readelf name ${JSON.stringify(r.type)} is not in the test's table`);
    eq(`${p}.type (${o.type} vs ${r.type})`, ptValue(o.type), theirType);
    for (const k of ['offset', 'vaddr', 'paddr', 'filesz', 'memsz', 'align'] as const) eq(`${p}.${k}`, BigInt(o[k]), r[k]);
    eq(`${p}.flags`, o.flags, r.flags.replaceAll(' ', '-').replace('E', 'X'));
  });
  // entryPhysical: e_entry through the first PT_LOAD whose [vaddr, vaddr + memsz) holds it, else null.
  const load = re.phdrs.find((r) => ptValue(r.type) === 1 && re.entry >= r.vaddr && re.entry < r.vaddr + r.memsz);
  eq('entryPhysical', ours.entryPhysical === null ? null : BigInt(ours.entryPhysical), load === undefined ? null : load.paddr + (re.entry - load.vaddr));
  return diffs;
}

describe('inspect agrees with `readelf -h -l -W` on every corpus file', {skip}, () => {
  test('the manifest lists files', () => {
    assert.ok(manifest.length >= 40, `manifest has only ${manifest.length} entries`);
  });

  for (const entry of manifest) {
    test(entry.path, async () => {
      const path = corpusFile(entry.path);
      const ours = await inspectFile(path);
      const re = parseReadelf(readelf(['-h', '-l', '-W', path]));
      const diffs = compare(ours, re, rawIdent(path));
      assert.deepEqual(diffs, [], `${entry.path} disagrees with readelf:\n  ${diffs.join('\n  ')}`);
      // The manifest's own readelf facts must agree too (a stale manifest or a mis-parse shows here).
      assert.equal(ours.programHeaders.filter((ph) => ph.type === 'LOAD').length, entry.pt_load.length, `${entry.path}: PT_LOAD count vs manifest`);
      assert.equal(BigInt(ours.entry), BigInt(entry.entry), `${entry.path}: entry vs manifest`);
    });
  }

  test('the compiled CLI prints the same reports as an array for three files', {skip: CLI_BUILT ? false : 'dist/ not built (npm run build)'}, async () => {
    const files = ['elf-misc/hello-freebsd-x86_64', 'freebsd-i386/pflog.ko', 'debian/qemu-system-data/openbios-ppc'].map(corpusFile);
    const r = await runCli(['inspect', '--json', ...files]);
    assert.equal(r.code, 0, `exit ${r.code}, stderr: ${r.stderr}`);
    const printed = JSON.parse(r.stdout) as unknown;
    assert.ok(Array.isArray(printed) && printed.length === 3, 'expected a JSON array of 3 reports');
    const expected = await Promise.all(files.map((f) => inspectFile(f)));
    assert.deepEqual(printed, JSON.parse(JSON.stringify(expected)));
  });
});
