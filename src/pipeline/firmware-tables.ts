/**
 * The firmware tables handed to a FreeBSD kernel: --efi-map / --smap / --dtb files first, else what the host
 * exports (machdep.efi_map, machdep.smap, hw.fdt.dtb on arm64: a host snapshot's or, on the native backend, this
 * system's), each checked and cut to the size its header declares (src/image/freebsd/firmware-blobs.ts).
 */
import type {TargetFacts} from '../backend/types.js';
import type {HostFacts} from '../host/host-facts.js';
import {parseDtb, parseEfiMap, parseSmap, smapFromXattr} from '../image/freebsd/firmware-blobs.js';
import type {FirmwareTable} from '../image/freebsd/firmware-memory.js';
import {INPUT_LIMITS, readInput} from '../io/read-input.js';

export interface FirmwareFlags {
  readonly efiMap?: string;
  readonly smap?: string;
  readonly dtb?: string;
}

export interface FirmwareTables {
  efiMap?: FirmwareTable;
  smap?: FirmwareTable;
  dtb?: FirmwareTable;
}

async function readTable(flag: string, path: string | undefined): Promise<Uint8Array | undefined> {
  return path === undefined ? undefined : readInput(path, {what: flag, maxBytes: INPUT_LIMITS.table});
}

export async function firmwareTables(flags: FirmwareFlags, arch: string, host: HostFacts | undefined, target: TargetFacts | undefined, notes: string[]): Promise<FirmwareTables> {
  const [efiBytes, smapBytes, dtbBytes] = await Promise.all([readTable('--efi-map', flags.efiMap), readTable('--smap', flags.smap), readTable('--dtb', flags.dtb)]);
  const out: FirmwareTables = {};
  const trailing = (what: string, n: number): void => {
    if (n > 0) notes.push(`${what}: ${n} bytes past the size its header declares were left out`);
  };
  if (efiBytes !== undefined && flags.efiMap !== undefined) {
    const b = parseEfiMap(efiBytes, flags.efiMap);
    trailing(`--efi-map ${flags.efiMap}`, b.trailing);
    out.efiMap = {bytes: b.bytes, source: `--efi-map ${flags.efiMap}`};
  }
  if (smapBytes !== undefined && flags.smap !== undefined) out.smap = {bytes: parseSmap(smapBytes, flags.smap).bytes, source: `--smap ${flags.smap}`};
  if (dtbBytes !== undefined && flags.dtb !== undefined) {
    const b = parseDtb(dtbBytes, flags.dtb);
    trailing(`--dtb ${flags.dtb}`, b.trailing);
    out.dtb = {bytes: b.bytes, source: `--dtb ${flags.dtb}`};
  }
  // The host's own tables: a snapshot's binary sysctls, or the running system's (native target).
  const efi = host?.binary.get('machdep.efi_map') ?? (target?.firmware?.efiMap === undefined ? undefined : {bytes: target.firmware.efiMap, source: target.firmware.source});
  const smap = host?.binary.get('machdep.smap') ?? (target?.firmware?.smapXattr === undefined ? undefined : {bytes: target.firmware.smapXattr, source: target.firmware.source});
  if (out.efiMap === undefined && out.smap === undefined) {
    if (efi !== undefined) {
      const b = parseEfiMap(efi.bytes, efi.source);
      trailing(efi.source, b.trailing);
      out.efiMap = {bytes: b.bytes, source: efi.source};
    } else if (smap !== undefined && arch === 'amd64') {
      out.smap = {bytes: smapFromXattr(smap.bytes, smap.source).bytes, source: smap.source};
    }
  }
  const dtb = host?.binary.get('hw.fdt.dtb');
  if (out.dtb === undefined && dtb !== undefined && arch === 'arm64') {
    const b = parseDtb(dtb.bytes, dtb.source);
    trailing(dtb.source, b.trailing);
    out.dtb = {bytes: b.bytes, source: dtb.source};
  }
  return out;
}
