/**
 * A FreeBSD kernel plus modules as one movable Image, laid out the way loader.efi does it (stand/common
 * load_elf.c, load_elf_obj.c, module.c, and stand/efi/loader/bootinfo.c bi_load), in loader addresses:
 *   kernel, modules (each page-aligned after the previous file), env (page), [dtb (page)], metadata at modulep,
 *   kernend = roundup(modulep + size, PAGE);
 * plus the trampoline kern_kexec.c does not supply: amd64 at loader address 1 MiB (physical base + 1 MiB, inside
 * the 2 MiB hole below KERNSTART, as kboot puts it) with its page tables after it; arm64 right after kernend.
 * The planner picks the physical base (2 MiB aligned; amd64 below 4 GiB with 16 MiB free after kernend for the
 * kernel's early allocations; arm64 not crossing 1 GiB); materialize(base) then writes every address.
 */
import {basename} from 'node:path';
import type {ElfFile} from '../../elf/elf-file.js';
import {KexecError, hex} from '../../errors.js';
import type {MemoryMap} from '../../memory/memory-map.js';
import {U64_MAX, alignUp, maxBigint} from '../../memory/range.js';
import type {ChecklistItem, FreeBsdHandoff, Image, KenvEntry, Piece} from '../types.js';
import {AMD64_PAGE_TABLE_PAGES, amd64PageTables} from './amd64-page-tables.js';
import {encodeEnvironment} from './boot-env.js';
import {KERNBASE_ARM64, MODINFOMD, MODINFOMD_ARM64, MODINFOMD_X86, NBPDR, PAGE_SIZE} from './constants.js';
import {layoutElfFile, requireKernphys} from './elf-layout.js';
import {buildFileSet, type AddedDependency, type ModuleRequest} from './file-set.js';
import {memoryRecord, type FirmwareTable} from './firmware-memory.js';
import {encode, encodeMetadata, measureMetadata, u32} from './metadata-encoder.js';
import type {ModuleSearch} from './module-search.js';
import type {MetadataRecord, PreloadedFile} from './preloaded-file.js';
import {loadTrampoline, patchTrampoline, trampolineSymbol} from './trampoline.js';
const SLACK = 16n << 20n;
const AMD64_TRAMP_AT = 0x100000n;

/** What the image built, for the hand-off checklist. */
export interface BuiltHandoff {
  readonly memory: {readonly record: string; readonly source: string; readonly synthesized: boolean};
  readonly files: readonly PreloadedFile[];
}

export interface FreeBsdImageOptions {
  readonly arch: string;
  /** MODINFO_NAME of the kernel: its path inside the root file system (kernelname). */
  readonly kernelName: string;
  readonly modules: readonly ModuleRequest[];
  readonly search: ModuleSearch;
  /** The kernel environment (sorted, with sources) and howto, assembled by boot-environment.ts. */
  readonly env: readonly KenvEntry[];
  readonly howto: number;
  /** The kernel's MODINFO_ARGS (kernel_options). */
  readonly kernelArgs?: string;
  /** The hand-off checklist of the host planned for, from what was built. */
  readonly checklist?: (built: BuiltHandoff) => ChecklistItem[];
  readonly symbols: boolean;
  readonly memoryMap: MemoryMap;
  readonly efiMap?: FirmwareTable;
  readonly smap?: FirmwareTable;
  readonly dtb?: Uint8Array;
  readonly fwHandle?: bigint;
}

export async function freebsdImage(elf: ElfFile, o: FreeBsdImageOptions): Promise<Image> {
  if (!elf.is64 || !elf.header.littleEndian) {
    throw new KexecError('plan', `${elf.file}: 32-bit and big-endian FreeBSD kernels are not supported (${o.arch})`, {reason: 'arch-unsupported'});
  }
  const arch = o.arch === 'amd64' || o.arch === 'arm64' ? o.arch : undefined;
  if (arch === undefined) {
    throw new KexecError('plan', `${elf.file}: FreeBSD kexec is implemented for amd64 and arm64 only; on ${o.arch} kexec_load_md() returns ENOSYS`, {
      reason: 'arch-unsupported', hint: 'use --image-type elf to plan it as a generic ELF image',
    });
  }
  if (arch === 'amd64') requireKernphys(elf);
  const kernel = layoutElfFile(elf, {arch, name: o.kernelName, loadaddr: 0n, symbols: o.symbols, ...(o.kernelArgs === undefined ? {} : {args: o.kernelArgs})});
  const origin = arch === 'amd64' ? 0n : KERNBASE_ARM64;
  if (arch === 'amd64' && kernel.addr < AMD64_TRAMP_AT + BigInt((1 + AMD64_PAGE_TABLE_PAGES) * 0x1000)) {
    throw new KexecError('plan', `${elf.file}: kernel starts at loader address ${hex(kernel.addr)}, inside the 1 MiB hole kexec-ts needs for its trampoline (expected 0x200000, KERNSTART)`, {reason: 'kernel-layout'});
  }
  if (arch === 'arm64' && (kernel.addr < KERNBASE_ARM64 || kernel.addr - KERNBASE_ARM64 >= NBPDR)) {
    throw new KexecError('plan', `${elf.file}: first PT_LOAD at ${hex(kernel.addr)} is not within 2 MiB above arm64 KERNBASE ${hex(KERNBASE_ARM64)}`, {reason: 'kernel-layout'});
  }
  const set = await buildFileSet(kernel, elf, arch, o.modules, o.search, o.symbols);

  // bi_load: howto, environment, modulep, kernend.
  const howto = o.howto;
  let addr = alignUp(set.files.reduce((m, f) => maxBigint(m, f.addr + f.size), 0n), PAGE_SIZE);
  const envp = addr;
  const envBlock = encodeEnvironment(new Map(o.env.map((e) => [e.name, e.value])));
  addr = alignUp(addr + BigInt(envBlock.length), PAGE_SIZE);
  let dtbp: bigint | undefined;
  if (o.dtb !== undefined) {
    dtbp = addr;
    addr += alignUp(BigInt(o.dtb.length), PAGE_SIZE);
  }
  const modulep = addr;
  const mem = memoryRecord(arch, {memoryMap: o.memoryMap, ...(o.efiMap === undefined ? {} : {efiMap: o.efiMap}), ...(o.smap === undefined ? {} : {smap: o.smap})});
  const biAdded = (kernend: bigint): MetadataRecord[] => [
    {type: MODINFOMD.HOWTO, data: u32(howto)},
    {type: MODINFOMD.ENVP, data: encode.u64(envp)},
    ...(dtbp === undefined ? [] : [{type: arch === 'amd64' ? MODINFOMD_X86.DTBP : MODINFOMD_ARM64.DTBP, data: encode.u64(dtbp)}]),
    {type: MODINFOMD.KERNEND, data: encode.u64(kernend)},
    ...(arch === 'amd64' ? [{type: MODINFOMD_X86.MODULEP, data: encode.u64(modulep)}] : []),
    ...(o.fwHandle === undefined ? [] : [{type: MODINFOMD.FW_HANDLE, data: encode.u64(o.fwHandle)}]),
    mem.record,
  ];
  const withBiLoad = (kernend: bigint): PreloadedFile[] => {
    const [k, ...rest] = set.files as [PreloadedFile, ...PreloadedFile[]];
    return [{...k, metadata: [...biAdded(kernend).reverse(), ...k.metadata]}, ...rest];
  };
  const mdSize = BigInt(measureMetadata(withBiLoad(0n)));
  const kernend = alignUp(modulep + mdSize, PAGE_SIZE);
  const metadata = encodeMetadata(withBiLoad(kernend));

  checkKernelWindow(arch, elf.file, set.files, kernend - origin);
  const tramp = loadTrampoline(arch);
  const trampAt = arch === 'amd64' ? AMD64_TRAMP_AT : kernend;
  const imageEnd = arch === 'amd64' ? kernend : kernend + BigInt(tramp.bytes.length);
  const size = alignUp(imageEnd - origin + SLACK, NBPDR);
  const checklist = o.checklist?.({memory: {record: mem.record.type === MODINFOMD_X86.SMAP && arch === 'amd64' ? 'SMAP' : 'EFI_MAP', source: mem.source, synthesized: /synthesized/.test(mem.source)}, files: set.files});
  const files = set.files;
  const entryVa = elf.header.entry;

  return {
    kind: 'freebsd', arch, machine: elf.header.machine, files: files.map((f) => f.name),
    fixed: [],
    notes: [mem.source, ...describeAdded(set.added), ...set.notes],
    movable: {
      label: `FreeBSD ${arch} kernel ${basename(elf.file)} with ${files.length - 1} module(s)`,
      size, align: NBPDR,
      ...(arch === 'amd64' ? {max: 1n << 32n} : {boundary: 1n << 30n}),
      materialize: (base) => {
        const phys = (a: bigint): bigint => (a - origin + base) & U64_MAX;
        const pieces: Piece[] = files.flatMap((f) => f.pieces.map((p) => ({label: p.label, mem: phys(p.at), data: p.data, memsz: p.memsz})));
        pieces.push({label: 'environment', mem: phys(envp), data: envBlock, memsz: BigInt(envBlock.length)});
        if (o.dtb !== undefined && dtbp !== undefined) pieces.push({label: 'dtb', mem: phys(dtbp), data: o.dtb, memsz: BigInt(o.dtb.length)});
        pieces.push({label: 'metadata', mem: phys(modulep), data: metadata, memsz: BigInt(metadata.length)});
        const trampPa = phys(trampAt);
        const kernelEntry = arch === 'amd64' ? phys((entryVa + kernel.off) & U64_MAX) : phys(entryVa);
        let trampBytes: Uint8Array;
        if (arch === 'amd64') {
          const tablesPa = trampPa + 0x1000n;
          pieces.push({label: 'page tables', mem: tablesPa, data: amd64PageTables(tablesPa, base), memsz: BigInt(AMD64_PAGE_TABLE_PAGES * 0x1000)});
          trampBytes = patchTrampoline(tramp, {
            param_gdt_base: {value: trampPa + BigInt(trampolineSymbol(tramp, 'tramp_gdt')), width: 8},
            param_pt4: {value: tablesPa, width: 8},
            param_entry: {value: entryVa, width: 8},
            param_modulep: {value: modulep, width: 4},
            param_kernend: {value: kernend, width: 4},
          });
        } else {
          trampBytes = patchTrampoline(tramp, {param_entry: {value: kernelEntry, width: 8}, param_modulep: {value: modulep, width: 8}});
        }
        pieces.push({label: `${arch} trampoline`, mem: trampPa, data: trampBytes, memsz: BigInt(trampBytes.length)});
        const physOffset = (base - origin) & U64_MAX;
        const handoff: FreeBsdHandoff = {
          kind: 'freebsd', arch, entry: trampPa, kernelEntry, kernelEntryVirtual: entryVa, loadBase: base,
          ...(arch === 'amd64' ? {kernphys: base + NBPDR} : {}),
          modulep, kernend, metadata: phys(modulep), metadataSize: BigInt(metadata.length), envp, physOffset, howto,
          env: o.env, memoryMapRecord: mem.source, memoryRecord: mem.summary,
          ...(o.fwHandle === undefined ? {} : {fwHandle: o.fwHandle}),
          files: files.map((f) => ({
            name: f.name, type: f.type, addr: f.addr, size: f.size, physical: phys(f.addr),
            modules: f.provides.map((m) => `${m.name}@${m.version}`), ...(f.args === undefined ? {} : {args: f.args}),
          })),
          dependencies: set.added.map((a) => ({file: a.file, module: a.module, neededBy: a.neededBy, how: a.how})),
          ...(checklist === undefined ? {} : {checklist}),
        };
        return {pieces, entry: trampPa, handoff};
      },
    },
  };
}

/**
 * Everything the loader hands over (kernel, modules, raw files, environment, metadata) must lie in the window the
 * new kernel maps at boot. amd64: VA = KERNBASE (0xffffffff80000000) + loader address, so loader addresses end
 * below 2 GiB: create_pagetables (sys/amd64/amd64/pmap.c) maps 0..KERNend with 2 MiB pages through page
 * directories hung at pdp_p[i + KPDPI], and KPDPI is NPDPEPG-2, "kernbase at -2GB" (sys/amd64/include/pmap.h), so two,
 * 2 GiB, is all there is (and modulep/kernend are passed as 32-bit values: sys/amd64/amd64/locore.S btext). arm64: locore
 * maps the kernel with one L2 table, 1 GiB ("All the memory must not cross a 1GiB boundary",
 * sys/arm64/arm64/locore.S), from KERNBASE up to modulep plus a few MiB. A multi-GiB md_image can therefore not be
 * preloaded on either; no memory map changes that, so say so instead of "no free RAM range".
 */
function checkKernelWindow(arch: 'amd64' | 'arm64', kernel: string, files: readonly PreloadedFile[], used: bigint): void {
  const window = arch === 'amd64' ? 0x80000000n : 1n << 30n;
  const reserve = arch === 'amd64' ? 0n : 6n << 20n;
  if (used + reserve <= window) return;
  const big = [...files].sort((a, b) => (b.size > a.size ? 1 : b.size < a.size ? -1 : 0))[0];
  throw new KexecError(
    'plan',
    `${kernel}: the kernel, modules, environment and metadata take ${hex(used)} bytes of loader address space, more than the ` +
      `${arch === 'amd64' ? '2 GiB KERNBASE window the amd64 kernel maps them in' : '1 GiB the arm64 kernel maps at boot (one L2 table, less 6 MiB for locore)'}` +
      (big === undefined ? '' : `; the largest file is ${big.name} (${big.type}, ${hex(big.size)} bytes)`),
    {reason: 'kernel-window', hint: 'FreeBSD cannot preload this much: make the md_image/mfs_root smaller, or put the file system on a disk'},
  );
}

function describeAdded(added: readonly AddedDependency[]): string[] {
  return added.map((a) => `added ${basename(a.file)} for module "${a.module}" needed by ${basename(a.neededBy)} (${a.how})`);
}
