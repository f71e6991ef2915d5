/**
 * Preload metadata writer, as stand/common/modinfo.c md_copymodules() lays it out. Like the loader it measures
 * first (the size decides KERNEND, which is itself a record), then writes.
 *
 *   record := u32 type; u32 size; u8 data[size]; zero pad to roundup(size, align)   (align 8 on 64-bit kernels)
 *   per file, kernel first: MODINFO_NAME (must come first), MODINFO_TYPE, [MODINFO_ARGS], MODINFO_ADDR (u64),
 *     MODINFO_SIZE (u64), then MODINFO_METADATA|type for each metadata entry in emitted order
 *   end := MODINFO_END {0, 0}
 *
 * The loader pads with whatever memory held; we write zeros so the block is deterministic and digestible.
 */
import {MODINFO} from './constants.js';
import type {PreloadRecordSource} from './preloaded-file.js';

const ALIGN = 8;
const HEADER = 8;
const pad = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

function cstring(s: string): Uint8Array {
  return new TextEncoder().encode(`${s}\0`);
}

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
}

function fileRecords(f: PreloadRecordSource): {type: number; data: Uint8Array}[] {
  const recs: {type: number; data: Uint8Array}[] = [{type: MODINFO.NAME, data: cstring(f.name)}, {type: MODINFO.TYPE, data: cstring(f.type)}];
  if (f.args !== undefined) recs.push({type: MODINFO.ARGS, data: cstring(f.args)});
  recs.push({type: MODINFO.ADDR, data: u64(f.addr)}, {type: MODINFO.SIZE, data: u64(f.size)});
  for (const m of f.metadata) recs.push({type: MODINFO.METADATA | m.type, data: m.data});
  return recs;
}

/** Bytes the block takes (md_copymodules' dry run). */
export function measureMetadata(files: readonly PreloadRecordSource[]): number {
  let n = 0;
  for (const f of files) for (const r of fileRecords(f)) n += HEADER + pad(r.data.length);
  return n + HEADER;
}

/** Writes the block (little-endian, 64-bit kernel). Returns exactly measureMetadata(files) bytes. */
export function encodeMetadata(files: readonly PreloadRecordSource[]): Uint8Array {
  const out = new Uint8Array(measureMetadata(files));
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const f of files) {
    for (const r of fileRecords(f)) {
      dv.setUint32(at, r.type, true);
      dv.setUint32(at + 4, r.data.length, true);
      out.set(r.data, at + HEADER);
      at += HEADER + pad(r.data.length);
    }
  }
  // MODINFO_END: type 0, size 0 (already zero).
  return out;
}

export const encode = {cstring, u64};

export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
