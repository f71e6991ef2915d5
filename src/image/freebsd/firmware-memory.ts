/**
 * The memory description the new kernel needs. amd64 panics without MODINFOMD_EFI_MAP or MODINFOMD_SMAP
 * (machdep.c native_parse_memmap: "No BIOS smap or EFI map info from loader!"); arm64 panics without an EFI map
 * or a DTB ("Cannot get physical memory regions"). kexec-ts passes what the user gives (--efi-map, --smap, --dtb,
 * e.g. from `sysctl -b machdep.efi_map` / `hw.fdt.dtb`), else it synthesizes one from the RAM ranges of the
 * memory map it planned against (vm.phys_segs: RAM the running kernel may hand out, so safe for the new one).
 *   struct bios_smap { u64 base; u64 length; u32 type; } packed, SMAP_TYPE_MEMORY = 1 (sys/x86/include/bios.h)
 *   struct efi_map_header { u64 memory_size; u64 descriptor_size; u32 descriptor_version; } padded to 16,
 *   then descriptors { u32 Type; u32 pad; u64 PhysicalStart, VirtualStart, NumberOfPages, Attribute }
 */
import {hex} from '../../errors.js';
import {ramRanges, type MemoryMap} from '../../memory/memory-map.js';
import {MODINFOMD_ARM64, MODINFOMD_X86} from './constants.js';
import type {MemoryRecordSummary} from '../types.js';
import type {MetadataRecord} from './preloaded-file.js';

const EFI_CONVENTIONAL_MEMORY = 7;
const EFI_MEMORY_WB = 0x8n;
const EFI_DESCRIPTOR_SIZE = 48;
const EFI_HEADER_SIZE = 32; // roundup(sizeof(struct efi_map_header) = 24, 16)

/** A checked firmware table (src/image/freebsd/firmware-blobs.ts) and where it came from ("--efi-map FILE"). */
export interface FirmwareTable {
  readonly bytes: Uint8Array;
  readonly source: string;
}

export interface FirmwareInputs {
  readonly efiMap?: FirmwareTable;
  readonly smap?: FirmwareTable;
  readonly memoryMap: MemoryMap;
}

function synthesizeSmap(map: MemoryMap): Uint8Array {
  const ranges = ramRanges(map);
  const out = new Uint8Array(20 * ranges.length);
  const dv = new DataView(out.buffer);
  ranges.forEach((r, i) => {
    dv.setBigUint64(i * 20, r.start, true);
    dv.setBigUint64(i * 20 + 8, r.size, true);
    dv.setUint32(i * 20 + 16, 1, true);
  });
  return out;
}

function synthesizeEfiMap(map: MemoryMap): Uint8Array {
  const ranges = ramRanges(map).filter((r) => r.start % 0x1000n === 0n && r.size >= 0x1000n);
  const out = new Uint8Array(EFI_HEADER_SIZE + EFI_DESCRIPTOR_SIZE * ranges.length);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(EFI_DESCRIPTOR_SIZE * ranges.length), true);
  dv.setBigUint64(8, BigInt(EFI_DESCRIPTOR_SIZE), true);
  dv.setUint32(16, 1, true);
  ranges.forEach((r, i) => {
    const d = EFI_HEADER_SIZE + i * EFI_DESCRIPTOR_SIZE;
    dv.setUint32(d, EFI_CONVENTIONAL_MEMORY, true);
    dv.setBigUint64(d + 8, r.start, true);
    dv.setBigUint64(d + 16, r.start, true);
    dv.setBigUint64(d + 24, r.size / 0x1000n, true);
    dv.setBigUint64(d + 32, EFI_MEMORY_WB, true);
  });
  return out;
}

/** How the kernel will read a memory record (sys/amd64/amd64/machdep.c add_efi_map_entries, add_smap_entries). */
function summarize(name: MemoryRecordSummary['name'], type: number, data: Uint8Array): MemoryRecordSummary {
  if (name === 'SMAP') return {name, type, size: data.length, entries: Math.floor(data.length / 20)};
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const descriptorSize = dv.getBigUint64(8, true);
  return {name, type, size: data.length, entries: descriptorSize === 0n ? 0 : Number(dv.getBigUint64(0, true) / descriptorSize)};
}

function record(name: MemoryRecordSummary['name'], type: number, data: Uint8Array): {record: MetadataRecord; summary: MemoryRecordSummary} {
  return {record: {type, data}, summary: summarize(name, type, data)};
}

/** The memory record for the kernel, what the kernel will find in it, and a sentence saying where it came from. */
export function memoryRecord(arch: string, f: FirmwareInputs): {record: MetadataRecord; summary: MemoryRecordSummary; source: string} {
  if (arch === 'amd64') {
    if (f.efiMap !== undefined) {
      return {...record('EFI_MAP', MODINFOMD_X86.EFI_MAP, f.efiMap.bytes), source: `EFI memory map given (${f.efiMap.source}, ${hex(f.efiMap.bytes.length)} bytes)`};
    }
    if (f.smap !== undefined) {
      return {...record('SMAP', MODINFOMD_X86.SMAP, f.smap.bytes), source: `SMAP given (${f.smap.source}, ${f.smap.bytes.length / 20} entries)`};
    }
    const smap = synthesizeSmap(f.memoryMap);
    return {...record('SMAP', MODINFOMD_X86.SMAP, smap), source: `SMAP synthesized from the RAM ranges of ${f.memoryMap.source} (${smap.length / 20} entries)`};
  }
  if (f.efiMap !== undefined) {
    return {...record('EFI_MAP', MODINFOMD_ARM64.EFI_MAP, f.efiMap.bytes), source: `EFI memory map given (${f.efiMap.source}, ${hex(f.efiMap.bytes.length)} bytes)`};
  }
  return {...record('EFI_MAP', MODINFOMD_ARM64.EFI_MAP, synthesizeEfiMap(f.memoryMap)), source: `EFI memory map synthesized from the RAM ranges of ${f.memoryMap.source}`};
}
