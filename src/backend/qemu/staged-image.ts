/**
 * The staged plan's bytes as QEMU receives them, read back from the staging store (plan.json + segment-NN.bin),
 * so the probe's CRC-32 of each preloaded file can be checked against what the plan put at that physical address
 * (segment bytes, then zeros up to memsz). Each segment file is also hashed with its zero fill and compared with
 * plan.json's SHA-256: bytes that no longer match were changed after load, so QEMU boots something that is not
 * the plan, which the verdict reports. A segment file of the wrong size is refused before booting.
 */
import {readFileSync} from 'node:fs';
import {basename} from 'node:path';
import {KexecError, hex} from '../../errors.js';
import {errnoCode} from '../../io/read-input.js';
import {compareBigint} from '../../memory/range.js';
import {segmentSha256} from '../../plan/segment-bytes.js';
import type {PlanDescription} from '../../plan/types.js';

export interface StagedSegment {
  readonly index: number;
  readonly mem: bigint;
  readonly memsz: bigint;
  readonly bufsz: bigint;
  readonly file: string;
  readonly data: Uint8Array;
  /** SHA-256 of data plus zero fill to memsz. */
  readonly sha256: string;
  readonly expectedSha256: string;
}

/** Bytes of [addr, addr + size) in the staged image, or the first address no segment covers. */
export type StagedRead = {readonly bytes: Uint8Array} | {readonly uncovered: bigint};

export class StagedImage {
  constructor(readonly segments: readonly StagedSegment[]) {}

  /** Segments whose file no longer hashes to plan.json's SHA-256. */
  changed(): StagedSegment[] {
    return this.segments.filter((s) => s.sha256 !== s.expectedSha256);
  }

  /** Segments overlapping [addr, addr + size). */
  overlapping(addr: bigint, size: bigint): StagedSegment[] {
    return this.segments.filter((s) => s.mem < addr + size && addr < s.mem + s.memsz);
  }

  read(addr: bigint, size: bigint): StagedRead {
    if (size > 0x40000000n) return {uncovered: addr};
    const out = new Uint8Array(Number(size));
    let at = addr;
    const end = addr + size;
    for (const s of [...this.overlapping(addr, size)].sort((a, b) => compareBigint(a.mem, b.mem))) {
      if (s.mem + s.memsz <= at) continue;
      if (s.mem > at) return {uncovered: at};
      const from = at - s.mem;
      const to = (end < s.mem + s.memsz ? end : s.mem + s.memsz) - s.mem;
      const dataTo = to < BigInt(s.data.length) ? to : BigInt(s.data.length);
      if (dataTo > from) out.set(s.data.subarray(Number(from), Number(dataTo)), Number(at - addr));
      at = s.mem + to;
    }
    return at < end ? {uncovered: at} : {bytes: out};
  }
}

function refuse(message: string, file: string): KexecError {
  return new KexecError('backend', `qemu: ${message}`, {
    reason: 'state-corrupt', details: {file}, hint: 'load the image again (the staged files were changed or damaged)',
  });
}

/** Reads every staged segment file (exactly bufsz bytes each) and hashes it. */
export function readStagedImage(plan: PlanDescription, segmentPath: (index: number) => string): StagedImage {
  return new StagedImage(plan.segments.map((s, i) => {
    const file = segmentPath(i);
    let data: Uint8Array;
    try {
      data = readFileSync(file);
    } catch (e) {
      throw refuse(`segment ${i}: cannot read ${file} (${errnoCode(e) ?? 'error'})`, file);
    }
    const {bufsz, memsz} = s;
    if (BigInt(data.length) !== bufsz) {
      throw refuse(`segment ${i} (${basename(file)}): is ${hex(data.length)} bytes, plan.json says bufsz ${hex(bufsz)}`, file);
    }
    if (bufsz > memsz) throw refuse(`segment ${i}: bufsz ${hex(bufsz)} is larger than memsz ${hex(memsz)} in plan.json`, file);
    const sha256 = segmentSha256({parts: [{offset: 0n, data}], bufsz, memsz});
    return {index: i, mem: s.mem, memsz, bufsz, file, data, sha256, expectedSha256: s.sha256};
  }));
}
