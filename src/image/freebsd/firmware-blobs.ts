/**
 * Firmware tables handed to the kernel as metadata, checked and cut to the size their own header declares (the
 * loader passes exactly that many bytes, and whatever follows in a file, a padded dump say, is not part of it):
 *   EFI map (MODINFOMD_EFI_MAP): struct efi_map_header { u64 memory_size; u64 descriptor_size;
 *     u32 descriptor_version; } padded to 16 bytes, then memory_size bytes of descriptors. stand/efi/loader/bootinfo.c
 *     bi_load_efi_data adds `efisz + efihdr->memory_size` bytes; sys/amd64/amd64/machdep.c efi_map_sysctl_handler
 *     returns the same payload as machdep.efi_map. EFI_MEMORY_DESCRIPTOR is 40 bytes; firmware may use larger.
 *   SMAP (MODINFOMD_SMAP): packed struct bios_smap { u64 base; u64 length; u32 type; } (sys/x86/include/bios.h);
 *     machdep.smap exports struct bios_smap_xattr (the same plus u32 xattr), 24 bytes each.
 *   DTB (MODINFOMD_DTBP): a flattened device tree, big-endian magic 0xd00dfeed then u32 totalsize.
 * Malformed input is a bad input file (exit 3) naming the source, the field and the value.
 */
import {KexecError, hex} from '../../errors.js';

const EFI_MAP_HEADER_SIZE = 32;
const EFI_MEMORY_DESCRIPTOR_MIN = 40;
const BIOS_SMAP_SIZE = 20;
const BIOS_SMAP_XATTR_SIZE = 24;
const FDT_MAGIC = 0xd00dfeed;
const FDT_HEADER_SIZE = 40;

export interface FirmwareBlob {
  readonly bytes: Uint8Array;
  /** Bytes after the declared end that were left out. */
  readonly trailing: number;
}

function bad(source: string, message: string): KexecError {
  return new KexecError('badInput', `${source}: ${message}`, {reason: 'firmware-table-malformed'});
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** An EFI map payload (header + descriptors), exactly as long as its header says. */
export function parseEfiMap(bytes: Uint8Array, source: string): FirmwareBlob {
  if (bytes.length < EFI_MAP_HEADER_SIZE) {
    throw bad(source, `EFI map is ${bytes.length} bytes, shorter than its ${EFI_MAP_HEADER_SIZE}-byte header (struct efi_map_header, padded to 16)`);
  }
  const dv = view(bytes);
  const memorySize = dv.getBigUint64(0, true);
  const descriptorSize = dv.getBigUint64(8, true);
  if (descriptorSize < BigInt(EFI_MEMORY_DESCRIPTOR_MIN) || descriptorSize % 8n !== 0n || descriptorSize > 0x1000n) {
    throw bad(source, `efi_map_header.descriptor_size ${hex(descriptorSize)} is not a multiple of 8 between ${EFI_MEMORY_DESCRIPTOR_MIN} and 4096`);
  }
  if (memorySize === 0n || memorySize % descriptorSize !== 0n) {
    throw bad(source, `efi_map_header.memory_size ${hex(memorySize)} is not a non-zero multiple of descriptor_size ${hex(descriptorSize)}`);
  }
  const end = BigInt(EFI_MAP_HEADER_SIZE) + memorySize;
  if (end > BigInt(bytes.length)) {
    throw bad(source, `efi_map_header.memory_size ${hex(memorySize)} needs ${hex(end)} bytes, the map has ${hex(bytes.length)}`);
  }
  return {bytes: bytes.subarray(0, Number(end)), trailing: bytes.length - Number(end)};
}

/** A --smap file: packed 20-byte struct bios_smap entries. */
export function parseSmap(bytes: Uint8Array, source: string): FirmwareBlob {
  if (bytes.length === 0 || bytes.length % BIOS_SMAP_SIZE !== 0) {
    throw bad(source, `SMAP is ${bytes.length} bytes, not a non-zero multiple of ${BIOS_SMAP_SIZE} (packed struct bios_smap entries)`);
  }
  return {bytes, trailing: 0};
}

/** machdep.smap (24-byte struct bios_smap_xattr entries) as the packed 20-byte entries MODINFOMD_SMAP carries. */
export function smapFromXattr(bytes: Uint8Array, source: string): FirmwareBlob {
  if (bytes.length === 0 || bytes.length % BIOS_SMAP_XATTR_SIZE !== 0) {
    throw bad(source, `machdep.smap is ${bytes.length} bytes, not a non-zero multiple of ${BIOS_SMAP_XATTR_SIZE} (struct bios_smap_xattr entries)`);
  }
  const n = bytes.length / BIOS_SMAP_XATTR_SIZE;
  const out = new Uint8Array(BIOS_SMAP_SIZE * n);
  for (let i = 0; i < n; i++) out.set(bytes.subarray(BIOS_SMAP_XATTR_SIZE * i, BIOS_SMAP_XATTR_SIZE * i + BIOS_SMAP_SIZE), BIOS_SMAP_SIZE * i);
  return {bytes: out, trailing: 0};
}

/** A flattened device tree, cut to its header's totalsize. */
export function parseDtb(bytes: Uint8Array, source: string): FirmwareBlob {
  if (bytes.length < FDT_HEADER_SIZE) throw bad(source, `device tree is ${bytes.length} bytes, shorter than its ${FDT_HEADER_SIZE}-byte header`);
  const dv = view(bytes);
  const magic = dv.getUint32(0, false);
  if (magic !== FDT_MAGIC) throw bad(source, `fdt_header.magic is ${hex(magic)}, expected ${hex(FDT_MAGIC)} (not a flattened device tree)`);
  const total = dv.getUint32(4, false);
  if (total < FDT_HEADER_SIZE || total > bytes.length) {
    throw bad(source, `fdt_header.totalsize ${hex(total)} is outside [${hex(FDT_HEADER_SIZE)}, ${hex(bytes.length)}] (the file's size)`);
  }
  return {bytes: bytes.subarray(0, total), trailing: bytes.length - total};
}
