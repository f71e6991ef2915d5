/**
 * EFI memory maps as machdep.efi_map and MODINFOMD_EFI_MAP hold them, built for tests: struct efi_map_header
 * { u64 memory_size; u64 descriptor_size; u32 descriptor_version; } padded to 32 bytes (sys/x86/include/metadata.h),
 * then 48-byte EFI_MEMORY_DESCRIPTORs { u32 Type; u32 pad; u64 PhysicalStart, VirtualStart, NumberOfPages,
 * Attribute }, version 1; then `junk` bytes of 0xee that are not part of the map.
 */
export interface EfiDescriptor {
  readonly type: number;
  readonly start: bigint;
  readonly pages: bigint;
  readonly virt?: bigint;
  readonly attribute?: bigint;
}

export function efiMapBytes(descriptors: readonly EfiDescriptor[], junk = 0): Uint8Array {
  const n = descriptors.length;
  const out = new Uint8Array(32 + 48 * n + junk).fill(0xee, 32 + 48 * n);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(48 * n), true);
  dv.setBigUint64(8, 48n, true);
  dv.setUint32(16, 1, true);
  descriptors.forEach((d, i) => {
    const at = 32 + 48 * i;
    dv.setUint32(at, d.type, true);
    dv.setBigUint64(at + 8, d.start, true);
    dv.setBigUint64(at + 16, d.virt ?? 0n, true);
    dv.setBigUint64(at + 24, d.pages, true);
    dv.setBigUint64(at + 32, d.attribute ?? 0n, true);
  });
  return out;
}

/** `n` descriptors of conventional memory (type 7), 0x100 pages each, `step` apart. */
export function conventionalEfiMap(n: number, step: bigint, junk = 0): Uint8Array {
  return efiMapBytes(Array.from({length: n}, (_, i) => ({type: 7, start: BigInt(i) * step, pages: 0x100n})), junk);
}
