/**
 * `sysctl machdep.smap` as sysctl(8) prints it (sbin/sysctl/sysctl.c S_bios_smap_xattr: one
 * "\nSMAP type=%02x, xattr=%02x, base=%016jx, len=%016jx" per entry), back to the struct bios_smap_xattr bytes
 * (sys/x86/include/bios.h: u64 base, u64 length, u32 type, u32 xattr) that `sysctl -b machdep.smap` gives. Host
 * snapshots may hold either: people paste the text form far more often than they save the binary one.
 */
import {KexecError} from '../errors.js';

const ENTRY = /^\s*SMAP type=([0-9a-fA-F]+), xattr=([0-9a-fA-F]+), base=([0-9a-fA-F]+), len=([0-9a-fA-F]+)\s*$/;

/** The entries of a text dump; lines that are not entries (the "machdep.smap:" label, blanks) are skipped. */
export function smapTextToXattr(text: string, source: string): Uint8Array {
  const rows: {base: bigint; len: bigint; type: number; xattr: number}[] = [];
  for (const line of text.split('\n')) {
    const m = ENTRY.exec(line);
    if (m === null) continue;
    const type = Number.parseInt(m[1] as string, 16);
    const xattr = Number.parseInt(m[2] as string, 16);
    const base = BigInt(`0x${m[3] as string}`);
    const len = BigInt(`0x${m[4] as string}`);
    if (type > 0xffffffff || xattr > 0xffffffff || base >= 1n << 64n || len >= 1n << 64n) {
      throw new KexecError('badInput', `${source}: SMAP entry out of range: ${JSON.stringify(line.trim())}`, {reason: 'bad-smap-text'});
    }
    rows.push({base, len, type, xattr});
  }
  if (rows.length === 0) throw new KexecError('badInput', `${source}: machdep.smap has no "SMAP type=.., xattr=.., base=.., len=.." lines`, {reason: 'bad-smap-text'});
  const out = new Uint8Array(rows.length * 24);
  const dv = new DataView(out.buffer);
  rows.forEach((r, i) => {
    dv.setBigUint64(i * 24, r.base, true);
    dv.setBigUint64(i * 24 + 8, r.len, true);
    dv.setUint32(i * 24 + 16, r.type, true);
    dv.setUint32(i * 24 + 20, r.xattr, true);
  });
  return out;
}
