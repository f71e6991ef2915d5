/**
 * Note entries (gABI "Note Section"): namesz, descsz, type, then name and desc each padded to the note's alignment
 * (4, or 8 for segments/sections aligned to 8, as GNU property notes are). FreeBSD's ABI tag (sys/sys/elf_common.h
 * NT_FREEBSD_ABI_TAG, owner "FreeBSD") carries __FreeBSD_version as a 4-byte integer.
 */
import {BinaryReader, elfError, latin1} from './binary-reader.js';
import {hex} from '../errors.js';

export interface ElfNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

export const NT_FREEBSD_ABI_TAG = 1;

export function readNotes(r: BinaryReader, offset: bigint, size: bigint, align: bigint, what: string): ElfNote[] {
  const a = align === 8n ? 8n : 4n;
  const end = offset + size;
  r.check(offset, size, what);
  const out: ElfNote[] = [];
  let at = offset;
  while (at + 12n <= end) {
    const s = `${what} note at ${hex(at)}`;
    const namesz = BigInt(r.u32(at, s));
    const descsz = BigInt(r.u32(at + 4n, s));
    const type = r.u32(at + 8n, s);
    const nameAt = at + 12n;
    const descAt = nameAt + pad(namesz, a);
    const next = descAt + pad(descsz, a);
    if (descAt + descsz > end || nameAt + namesz > end) {
      throw elfError(r.file, s, `namesz ${hex(namesz)} / descsz ${hex(descsz)} run past the end of the notes at ${hex(end)}`);
    }
    const rawName = r.slice(nameAt, namesz, s);
    const nul = rawName.indexOf(0);
    out.push({name: latin1(nul < 0 ? rawName : rawName.subarray(0, nul)), type, desc: r.slice(descAt, descsz, s)});
    at = next;
  }
  return out;
}

function pad(v: bigint, a: bigint): bigint {
  return (v + a - 1n) & ~(a - 1n);
}
